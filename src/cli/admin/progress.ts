// Progress of long work (snapshot save and restore, a member catching up, a decommission) on
// stderr: a bar redrawn in place on a terminal; on a pipe or a file, a plain line whenever the
// work advanced by a tenth (and at the end), so logs stay readable. Never on stdout, which
// carries the result (`--json`).

export interface ProgressOptions {
  readonly label: string;
  /** What the numbers count ("bytes" prints binary sizes). */
  readonly unit?: 'bytes' | 'entries' | 'partitions' | 'records';
  readonly stream?: NodeJS.WriteStream | NodeJS.WritableStream;
  /** Off: nothing is printed (`--quiet`). */
  readonly enabled?: boolean;
}

const BAR_WIDTH = 30;
/** A terminal is redrawn at most this often. */
const REDRAW_MIN_MS = 100;

export class Progress {
  private readonly stream: NodeJS.WritableStream;
  private readonly tty: boolean;
  private lastDrawMs = 0;
  private lastTenth = -1;
  private done = false;
  private readonly startedMs = Date.now();

  constructor(private readonly options: ProgressOptions) {
    this.stream = options.stream ?? process.stderr;
    this.tty = (this.stream as NodeJS.WriteStream).isTTY === true;
  }

  /** `current` of `total` (total 0 or unknown: a counter without a bar). */
  update(current: number, total: number | null, detail = ''): void {
    if (this.done || this.options.enabled === false) return;
    const now = Date.now();
    if (this.tty) {
      if (now - this.lastDrawMs < REDRAW_MIN_MS) return;
      this.lastDrawMs = now;
      this.stream.write(`\r${this.line(current, total, detail)}\x1b[K`);
      return;
    }
    const tenth = total !== null && total > 0 ? Math.floor((10 * Math.min(current, total)) / total) : Math.floor(now / 5000);
    if (tenth === this.lastTenth) return;
    this.lastTenth = tenth;
    this.stream.write(`${this.line(current, total, detail)}\n`);
  }

  /** The final line; later updates are ignored. */
  finish(current: number, total: number | null, detail = ''): void {
    if (this.done) return;
    this.done = true;
    if (this.options.enabled === false) return;
    const seconds = ((Date.now() - this.startedMs) / 1000).toFixed(1);
    this.stream.write(`${this.tty ? '\r' : ''}${this.line(current, total, detail)} (${seconds} s)${this.tty ? '\x1b[K' : ''}\n`);
  }

  private line(current: number, total: number | null, detail: string): string {
    const amount = (n: number): string => (this.options.unit === 'bytes' ? mib(n) : String(n));
    const of = total !== null && total > 0 ? `${amount(current)}/${amount(total)}` : amount(current);
    let bar = '';
    if (total !== null && total > 0) {
      const fraction = Math.max(0, Math.min(1, current / total));
      const filled = Math.round(fraction * BAR_WIDTH);
      bar = `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)}% `;
    }
    const unit = this.options.unit === undefined || this.options.unit === 'bytes' ? '' : ` ${this.options.unit}`;
    return `${this.options.label} ${bar}${of}${unit}${detail === '' ? '' : ` ${detail}`}`;
  }
}

function mib(n: number): string {
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}
