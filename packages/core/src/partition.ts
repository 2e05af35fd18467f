const fnvOffset = 0x811c9dc5;
const fnvPrime = 0x01000193;
const encoder = new TextEncoder();

/**
 * The partition of a key among `partitions`: FNV-1a 32-bit over the key's UTF-8 bytes, mod n.
 * This is the hash nats-server's `partition(n, ...)` subject mapping uses, so assignments stay
 * stable if a newer server's stream transform ever takes the job over.
 */
export function partitionFor(key: string, partitions: number): number {
  let hash = fnvOffset;
  // Most keys are ASCII, whose UTF-8 bytes are their char codes: hash them without encoding.
  for (let i = 0; i < key.length; i++) {
    const code = key.charCodeAt(i);
    if (code > 0x7f) return partitionOfBytes(key, partitions);
    hash ^= code;
    hash = Math.imul(hash, fnvPrime) >>> 0;
  }
  return hash % partitions;
}

function partitionOfBytes(key: string, partitions: number): number {
  let hash = fnvOffset;
  for (const byte of encoder.encode(key)) {
    hash ^= byte;
    hash = Math.imul(hash, fnvPrime) >>> 0;
  }
  return hash % partitions;
}
