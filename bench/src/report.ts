import type { Rate } from './measure.js';

/** Prints each figure as it is measured, then the ratios between them. */
export class Report {
  private readonly rates = new Map<string, Rate>();
  private readonly labels = new Map<string, string>();

  add(key: string, label: string, rate: Rate & { all: number[] }, unit: string, note = ''): void {
    this.rates.set(key, rate);
    this.labels.set(key, label);
    const runs = rate.all.map(format).join(', ');
    console.log(`${label.padEnd(50)} ${format(rate.perSecond).padStart(8)} ${unit} (runs: ${runs})${note}`);
  }

  ratio(key: string, baselineKey: string, goal?: number): void {
    const rate = this.rates.get(key);
    const baseline = this.rates.get(baselineKey);
    if (!rate || !baseline) return;
    const value = rate.perSecond / baseline.perSecond;
    const verdict = goal === undefined ? '' : `   goal >= ${goal}x: ${value >= goal ? 'met' : 'MISSED'}`;
    const what = `${this.labels.get(key)} / ${this.labels.get(baselineKey)}`;
    console.log(`ratio ${value.toFixed(2).padStart(5)}x  ${what}${verdict}`);
  }
}

export function format(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** The middle value (the upper middle of an even count); NaN for none. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}
