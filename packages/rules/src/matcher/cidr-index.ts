import type { IpAddress, IpRange } from '../pattern/ip-address.js';
import type { TargetSink } from './target-sink.js';

/** The CIDR blocks of one mask length and IP version, by network address. */
interface BlocksOfOneMask<T> {
  readonly version: 4 | 6;
  /** The network bits of an address: `address & mask` is its block's low end. */
  readonly mask: bigint;
  readonly byNetwork: Map<bigint, T[]>;
}

/**
 * Targets keyed by CIDR block. A lookup costs one hash probe per distinct mask length (and IP
 * version) among the stored blocks, however many blocks are stored: 10,000 `/24` rules are one
 * probe, where trying each block was a scan.
 */
export class CidrIndex<T> {
  /** Ordered by version, then mask length: the same order every time, for stable results. */
  private readonly masks: BlocksOfOneMask<T>[] = [];

  add(range: IpRange, target: T): void {
    const width = range.version === 4 ? 32n : 128n;
    const all = (1n << width) - 1n;
    // A parsed block spans 2^k addresses from a multiple of 2^k: high - low is its host mask.
    const mask = all & ~(range.high - range.low);
    let blocks = this.masks.find((one) => one.version === range.version && one.mask === mask);
    if (blocks === undefined) {
      blocks = { version: range.version, mask, byNetwork: new Map() };
      this.masks.push(blocks);
      this.masks.sort((a, b) => a.version - b.version || (a.mask < b.mask ? -1 : a.mask > b.mask ? 1 : 0));
    }
    const targets = blocks.byNetwork.get(range.low);
    if (targets === undefined) blocks.byNetwork.set(range.low, [target]);
    else targets.push(target);
  }

  /** Pushes onto `out` the targets of every stored block that contains `address`. */
  collect(address: IpAddress, out: TargetSink<T>): void {
    for (const blocks of this.masks) {
      if (blocks.version !== address.version) continue;
      const targets = blocks.byNetwork.get(address.value & blocks.mask);
      if (targets !== undefined) for (const target of targets) out.push(target);
    }
  }
}
