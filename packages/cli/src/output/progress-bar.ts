/**
 * A plain-text progress bar: redrawn in place on a terminal; elsewhere (a pipe, CI logs) one
 * line each time another 10% is reached.
 */
export class ProgressBar {
  private lastDecile = -1;
  private drawn = false;

  constructor(
    private readonly out: { isTTY?: boolean; write(text: string): unknown },
    private readonly width = 30,
  ) {}

  update(processed: number, total: number, failed: number): void {
    const ratio = total === 0 ? 1 : Math.min(1, processed / total);
    this.show(ratio, `${processed}/${total}${failed > 0 ? ` (${failed} failed)` : ''}`);
  }

  /** Draws `ratio` (0 to 1) with a detail after it, for work whose total is not a count. */
  show(ratio: number, detail: string): void {
    const filled = Math.round(Math.min(1, Math.max(0, ratio)) * this.width);
    const line =
      `[${'#'.repeat(filled)}${'.'.repeat(this.width - filled)}] ${String(Math.floor(ratio * 100)).padStart(3)}%` +
      ` ${detail}`;
    if (this.out.isTTY) {
      this.out.write(`\r${line}`);
      this.drawn = true;
      return;
    }
    const decile = Math.floor(ratio * 10);
    if (decile > this.lastDecile) {
      this.lastDecile = decile;
      this.out.write(`${line}\n`);
    }
  }

  end(): void {
    if (this.drawn) this.out.write('\n');
  }
}
