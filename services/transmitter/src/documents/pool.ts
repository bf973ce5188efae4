/**
 * The conversion pool: documents are converted in worker threads, never on the thread that times
 * T.30 frames and answers RADIUS. At most `workers` documents convert at once (the rest wait their
 * turn); each gets `maxSeconds` and a heap of `maxMemoryMb`, and a worker that runs over is
 * stopped with its converters and replaced, its document failed with the limit named.
 */
import { Worker } from 'node:worker_threads';
import type { FaxPage } from '@faxnotify/fax-line';
import type { WorkerJob, WorkerMessage } from './conversion-worker';
import type { ConversionRequest, PreparationFailureStatus, PreparationResult } from './format';
import { DEFAULT_DOCUMENT_LIMITS, type DocumentLimits, limitDetail } from './limits';
import { conversionWorkerScript } from './worker-script';

export interface ConversionPoolOptions {
  /** Documents converted at once, each in its own worker thread. */
  workers: number;
  limits?: Partial<DocumentLimits>;
  /** Called once when the pool is closed. */
  onClose?: () => void;
}

interface Pending {
  path: string;
  request: ConversionRequest & { limits: DocumentLimits };
  resolve: (result: PreparationResult) => void;
}

interface Slot {
  worker: Worker;
  job?: { id: number; pending: Pending; children: Set<number>; timer: NodeJS.Timeout };
}

/** Past the document's own deadline, the time its worker gets to report a converter's timeout itself. */
const DEADLINE_GRACE_MS = 1000;

export class ConversionPool {
  readonly limits: DocumentLimits;
  private readonly size: number;
  private readonly slots = new Set<Slot>();
  private readonly idle: Slot[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 0;
  private closed = false;
  private readonly onClose: (() => void) | undefined;

  constructor(options: ConversionPoolOptions) {
    if (!Number.isInteger(options.workers) || options.workers < 1) throw new Error('a conversion pool needs at least one worker');
    this.size = options.workers;
    this.limits = { ...DEFAULT_DOCUMENT_LIMITS, ...options.limits };
    this.onClose = options.onClose;
  }

  /** Documents waiting for a worker. */
  get waiting(): number {
    return this.queue.length;
  }

  /** Documents being converted now. */
  get converting(): number {
    return [...this.slots].filter((slot) => slot.job).length;
  }

  /** Converts one document in a worker; a failure, a breached limit included, is a result, never a rejection. */
  prepare(path: string, request: ConversionRequest = {}): Promise<PreparationResult> {
    if (this.closed) return Promise.resolve(failure('failed_internal_process_error', 'the document converter has stopped'));
    const limits = { ...this.limits, ...request.limits };
    return new Promise((resolve) => {
      this.queue.push({ path, request: { ...request, limits }, resolve });
      this.dispatch();
    });
  }

  /** Stops every worker; documents still waiting or converting end as failed. */
  async close(): Promise<void> {
    if (!this.closed) this.onClose?.();
    this.closed = true;
    for (const pending of this.queue.splice(0))
      pending.resolve(failure('failed_internal_process_error', 'the document converter stopped before the document was converted'));
    await Promise.all(
      [...this.slots].map((slot) => this.retire(slot, failure('failed_internal_process_error', 'the document converter stopped during the conversion'))),
    );
  }

  private dispatch(): void {
    while (this.queue.length > 0 && !this.closed) {
      const slot = this.idle.pop() ?? (this.slots.size < this.size ? this.spawn() : undefined);
      if (!slot) return;
      const pending = this.queue.shift()!;
      const id = ++this.nextId;
      const { limits } = pending.request;
      const timer = setTimeout(
        () => {
          const detail = limitDetail('maxSeconds', `the conversion was still running after ${limits.maxSeconds} s`, limits);
          void this.retire(slot, failure('failed_image_preparation', detail));
        },
        limits.maxSeconds * 1000 + DEADLINE_GRACE_MS,
      );
      slot.job = { id, pending, children: new Set(), timer };
      slot.worker.ref();
      const job: WorkerJob = { id, path: pending.path, request: pending.request };
      slot.worker.postMessage(job);
    }
  }

  private spawn(): Slot {
    const { script, eval: evaluate, workerData } = conversionWorkerScript();
    const worker = new Worker(script, {
      eval: evaluate,
      workerData,
      resourceLimits: { maxOldGenerationSizeMb: this.limits.maxMemoryMb },
    });
    const slot: Slot = { worker };
    this.slots.add(slot);
    worker.on('message', (message: WorkerMessage) => this.received(slot, message));
    worker.on('error', (error: Error & { code?: string }) => {
      const limits = slot.job?.pending.request.limits ?? this.limits;
      const result =
        error.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? failure('failed_image_preparation', limitDetail('maxMemoryMb', `the conversion needed more than ${this.limits.maxMemoryMb} MB of heap`, limits))
          : failure('failed_internal_process_error', `the conversion worker failed: ${error.message}`);
      void this.retire(slot, result);
    });
    worker.on('exit', () => void this.retire(slot, failure('failed_internal_process_error', 'the conversion worker ended during the conversion')));
    return slot;
  }

  private received(slot: Slot, message: WorkerMessage): void {
    const job = slot.job;
    if (!job || message.id !== job.id) return;
    if (message.kind === 'child') {
      if (message.running) job.children.add(message.pid);
      else job.children.delete(message.pid);
      return;
    }
    clearTimeout(job.timer);
    slot.job = undefined;
    slot.worker.unref();
    this.idle.push(slot);
    job.pending.resolve(asBuffers(message.result));
    this.dispatch();
  }

  /** Takes a worker out of the pool (its job, if any, ends with `result`) and stops it with its converters. */
  private async retire(slot: Slot, result: PreparationResult): Promise<void> {
    if (!this.slots.delete(slot)) return;
    const index = this.idle.indexOf(slot);
    if (index >= 0) this.idle.splice(index, 1);
    const job = slot.job;
    slot.job = undefined;
    if (job) {
      clearTimeout(job.timer);
      for (const pid of job.children) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
      job.pending.resolve(result);
    }
    this.dispatch();
    await slot.worker.terminate();
  }
}

function failure(status: PreparationFailureStatus, detail: string): PreparationResult {
  return { ok: false, status, detail };
}

/** Pages cross the thread boundary as plain byte arrays: they become Buffers again. */
function asBuffers(result: PreparationResult): PreparationResult {
  if (!result.ok) return result;
  const pages: FaxPage[] = result.document.pages.map((page) => ({ ...page, data: Buffer.from(page.data.buffer, page.data.byteOffset, page.data.byteLength) }));
  return { ...result, document: { pages } };
}
