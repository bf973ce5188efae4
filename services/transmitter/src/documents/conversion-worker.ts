/**
 * A conversion worker thread: takes one document at a time from the pool, converts it and posts
 * the result back, reporting every converter process it starts so the pool can stop them with it.
 */
import { parentPort } from 'node:worker_threads';
import { convertDocument } from './convert';
import type { ConversionRequest, PreparationResult } from './format';

export interface WorkerJob {
  id: number;
  path: string;
  request: ConversionRequest;
}

export type WorkerMessage = { id: number; kind: 'child'; pid: number; running: boolean } | { id: number; kind: 'result'; result: PreparationResult };

const port = parentPort;
if (port) {
  port.on('message', (job: WorkerJob) => {
    const tell = (message: WorkerMessage) => port.postMessage(message);
    void convertDocument(job.path, job.request, (pid, running) => tell({ id: job.id, kind: 'child', pid, running })).then((result) =>
      tell({ id: job.id, kind: 'result', result }),
    );
  });
}
