/** `--name=value` from a bench's arguments as a number, or `fallback` when absent. */
export function numberOption(args: readonly string[], name: string, fallback: number): number {
  return Number(args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback);
}
