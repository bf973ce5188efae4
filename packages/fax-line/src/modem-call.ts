/**
 * What a call on a serial fax modem is in either direction: the call as an explicit state machine
 * (open the port, wake the modem, the direction's and service class's own states, hang up) with
 * abort handling, the trace and the line reason. Sending (modem-session.ts) adds the dial and the
 * pages to send; receiving (modem-receive.ts) adds waiting for the ring, the answer and the pages
 * received.
 */
import { type AtResult, CAN, LineAbortedError, ModemChannel, ModemLinkError } from './modem-channel';
import { openSerialPort, type SerialLink } from './serial-port';
import { LineReason, type LineReasonCode } from './types';

/** The time limits every modem session has, in milliseconds. */
export interface ModemTimers {
  /** A plain AT command's result. */
  command: number;
  /** ATD until the call is up or has failed (ATA until the answer, when receiving). */
  dial: number;
  /** Pause after our hang-up before the next dial. */
  hangupGuard: number;
}

/** Which calls a line takes: it dials out, answers, or both (one call at a time). */
export type LineMode = 'send' | 'receive' | 'both';

/** What every modem line is configured with; a service class may add its own. */
export interface ModemLineOptions<Timers extends ModemTimers> {
  id: string;
  /** Device path of the modem (e.g. /dev/ttyS0, an iaxmodem pty), or a factory for the link. */
  device: string | (() => Promise<SerialLink>);
  timers?: Partial<Timers>;
  /** Put before the dial string, e.g. "T" for tone dialling. Default none. */
  dialPrefix?: string;
  /**
   * T.30's retry limit: transmissions of a page the receiver rejected (RTN) and, in Class 1, tries
   * of each command. Default 3.
   */
  retries?: number;
  /** Send, receive or both. Default send. */
  mode?: LineMode;
  /** Our identity (CSI) shown to callers when the line answers; at most 20 characters are sent. */
  answerId?: string;
  /** The number this line answers for, when the modem does not report the called number. */
  number?: string;
}

/** What helpers that do a service class's modem I/O for a call (class1-frames.ts) may use of it. */
export interface ModemAccess<Timers extends ModemTimers> {
  readonly timers: Timers;
  channel(): ModemChannel;
  /** The caller's signal while it applies (see ModemCall.signal). */
  signal(): AbortSignal | undefined;
  command(command: string, timeoutMs?: number): Promise<AtResult>;
  noteResult(result: AtResult): void;
  remember(text: string): void;
}

/** The states every call has; a direction and service class add their own between them. */
export type CallState = 'open_port' | 'init_modem' | 'hangup' | 'done';

/** Anything that wants the call's trace. */
export interface CallObserver {
  /** One readable line of the session: commands, results, frames, state changes. */
  trace?(line: string): void;
}

/**
 * One call on a modem. `State` is every state the call can be in (CallState and its own); each
 * state does its modem I/O and returns the next; every state change, command and result goes to
 * the observer's trace.
 */
export abstract class ModemCall<State extends string, Timers extends ModemTimers, Options extends ModemLineOptions<Timers>> {
  protected state: State | CallState = 'open_port';
  protected channel: ModemChannel | null = null;
  protected readonly startedAt = new Date();
  protected connectedAt: Date | null = null;
  protected remote: { csid: string | null; csidRaw: string | null } = { csid: null, csidRaw: null };
  protected reason: { code: LineReasonCode; detail: string } | null = null;
  protected lastResultLine = '';
  /** The last frames or modem reports, for the result's detail. */
  private readonly recent: string[] = [];

  constructor(
    protected readonly observer: CallObserver,
    protected readonly timers: Timers,
    protected readonly options: Options,
    private readonly callerSignal: AbortSignal | undefined,
  ) {}

  /** What `recent` holds, as the result's detail names it: "frames" or "reports". */
  protected abstract readonly recentLabel: string;

  /** The states of this direction and service class (beyond open_port, init_modem and hangup). */
  protected abstract protocolStates(): Record<Exclude<State, CallState>, () => Promise<State | CallState>>;

  /** After the modem answers AT: put it in the service class. Returns the first own state or a failure's state. */
  protected abstract configureModem(): Promise<State | CallState>;

  /** Put the modem on-hook; returns `done`. */
  protected abstract hangup(): Promise<State | CallState>;

  /** What an abort means for this call, e.g. "send aborted by the caller". */
  protected abstract readonly abortedDetail: string;

  /** States that run even after an abort or a failure: the goodbye to the far end and going on-hook. */
  protected isClosing(state: State | CallState): boolean {
    return state === 'hangup';
  }

  /** Where a failure leads: on-hook, unless the service class has a goodbye to say first. */
  protected closingState(): State | CallState {
    return 'hangup';
  }

  /** The caller's signal, until the session is ending: the clean-up must run regardless. */
  protected get signal(): AbortSignal | undefined {
    return this.reason || this.isClosing(this.state) ? undefined : this.callerSignal;
  }

  protected get retries(): number {
    return this.options.retries ?? 3;
  }

  /** Runs the states from open_port to done. */
  protected async runStates(): Promise<void> {
    const handlers = {
      ...this.protocolStates(),
      open_port: () => this.openPort(),
      init_modem: () => this.initModem(),
      hangup: () => this.hangup(),
    } as Record<string, () => Promise<State | CallState>>;
    try {
      while (this.state !== 'done') {
        if (this.callerSignal?.aborted && !this.reason && !this.isClosing(this.state)) {
          this.state = this.fail(LineReason.ABORTED, this.abortedDetail);
          continue;
        }
        const state = this.state;
        this.trace(`-- ${state}`);
        try {
          this.state = await handlers[state]();
        } catch (error) {
          if (error instanceof LineAbortedError) {
            // The failure's state says goodbye to the far end where the service class has one.
            this.state = this.fail(LineReason.ABORTED, `${this.abortedDetail} during ${state}`);
          } else if (error instanceof ModemLinkError) {
            this.reason ??= { code: LineReason.MODEM_ERROR, detail: error.message };
            this.state = 'done';
          } else {
            // A bug of ours: leave the line on-hook before reporting it.
            await this.channel?.command('ATH0', this.timers.command).catch(() => undefined);
            throw error;
          }
        }
      }
    } finally {
      await this.channel?.close().catch(() => undefined);
    }
  }

  /** This call's modem, for the helpers that do the service class's I/O. */
  protected modemAccess(): ModemAccess<Timers> {
    return {
      timers: this.timers,
      channel: () => this.ch,
      signal: () => this.signal,
      command: (command, timeoutMs) => this.command(command, timeoutMs),
      noteResult: (result) => this.noteResult(result),
      remember: (text) => this.remember(text),
    };
  }

  // ---- common states ----

  private async openPort(): Promise<State | CallState> {
    const device = this.options.device;
    let link: SerialLink;
    try {
      link = typeof device === 'string' ? await openSerialPort(device) : await device();
    } catch (error) {
      const where = typeof device === 'string' ? ` ${device}` : '';
      this.reason = { code: LineReason.MODEM_ERROR, detail: `cannot open modem${where}: ${(error as Error).message}` };
      return 'done';
    }
    this.channel = new ModemChannel(link, (line) => this.emitTrace(line));
    return 'init_modem';
  }

  private async initModem(): Promise<State | CallState> {
    // A modem may hold junk from before us; a bare AT resynchronises it.
    let alive = false;
    for (let i = 0; i < 3 && !alive; i++) {
      this.ch.discardInput();
      alive = (await this.command('AT', 1500)).code === 'OK';
    }
    if (!alive) return this.fail(LineReason.MODEM_ERROR, 'the modem does not answer AT');
    return this.configureModem();
  }

  // ---- for the directions and service classes ----

  /** The call is up: note when, and go on to `next`. */
  protected answered(next: State | CallState): State | CallState {
    this.connectedAt = new Date();
    return next;
  }

  /** Any character cancels dialling (or answering). */
  protected async cancelDial(): Promise<void> {
    await this.ch.write(Buffer.from([CAN]));
  }

  /**
   * Setup commands in order. A rejected essential one ends the session: its failure state is
   * returned. Null when the modem took them all, or rejected only ones it may lack.
   */
  protected async applySettings(commands: readonly string[], essential: (command: string) => boolean = () => true): Promise<State | CallState | null> {
    for (const command of commands) {
      const result = await this.command(command);
      if (result.code !== 'OK' && essential(command)) {
        return this.fail(LineReason.MODEM_ERROR, `the modem rejected ${command} (${result.line || result.code})`);
      }
    }
    return null;
  }

  protected get ch(): ModemChannel {
    if (!this.channel) throw new Error('modem channel not open');
    return this.channel;
  }

  protected async command(command: string, timeoutMs = this.timers.command): Promise<AtResult> {
    const result = await this.ch.command(command, timeoutMs, this.signal);
    this.noteResult(result);
    return result;
  }

  /** Keeps the modem's last word for the result's detail. */
  protected noteResult(result: AtResult): void {
    this.lastResultLine = result.line || result.code;
  }

  /** A command failed the way a dropped call makes everything fail. */
  protected callLost(result: AtResult, during: string): State | CallState {
    const code = result.code === 'TIMEOUT' ? LineReason.MODEM_ERROR : LineReason.NO_CARRIER;
    return this.fail(code, `${result.line || result.code} ${during}`);
  }

  protected fail(code: LineReasonCode, detail: string): State | CallState {
    this.reason ??= { code, detail };
    this.trace(`!! ${code}: ${detail}`);
    return this.closingState();
  }

  protected remember(text: string): void {
    this.recent.push(text);
    if (this.recent.length > 8) this.recent.shift();
  }

  protected trace(text: string): void {
    if (this.channel) this.channel.trace(text);
    else this.emitTrace(text);
  }

  private emitTrace(line: string): void {
    this.notify(() => this.observer.trace?.(line));
  }

  /** Observer callbacks must not break the call. */
  protected notify(callback: () => void): void {
    try {
      callback();
    } catch {
      // An observer's failure is its own business.
    }
  }

  /** The reason (OK with `successDetail` when nothing failed) with the modem's last word and the recent frames or reports. */
  protected finalReason(successDetail: string): { code: LineReasonCode; detail: string } {
    const reason = this.reason ?? { code: LineReason.OK, detail: successDetail };
    const detailParts = [reason.detail];
    if (this.lastResultLine) detailParts.push(`modem: "${this.lastResultLine}"`);
    if (this.recent.length > 0) detailParts.push(`${this.recentLabel}: ${this.recent.join(', ')}`);
    return { code: reason.code, detail: detailParts.join('; ') };
  }
}
