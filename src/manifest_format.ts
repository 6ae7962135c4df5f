/**
 * The build manifest format: the ActionIDs a build used, in the order it first used
 * them, so that the next build of the same kind can fetch them before the go command
 * asks. Here, beside the storage seam, so that the remote tier (which reads and writes
 * manifests) and a remote store (which bounds what it reads) share it, and neither
 * imports the other.
 *
 * A manifest is one stored value: a 32-byte header, then 36-byte records.
 *
 * | offset | size | field                                                  |
 * | ------ | ---- | ------------------------------------------------------ |
 * | 0      | 4    | magic `GCPM`                                           |
 * | 4      | 1    | version, 1                                             |
 * | 5      | 3    | reserved, 0                                            |
 * | 8      | 16   | the first 16 bytes of SHA-256 of the CI job's identity |
 * | 24     | 8    | creation time, Unix milliseconds, little-endian        |
 *
 * Each record is an ActionID (32 bytes) and the entry's size (4 bytes, little-endian,
 * saturated). Records hold ActionIDs, not key names, so a manifest can never name a key
 * outside its namespace. The go commands of one CI job append to the manifest; the
 * first go command of a new job replaces it.
 *
 * @module
 */

/** Bytes before the first record. */
export const MANIFEST_HEADER_BYTES = 32;

/** Bytes per record. */
export const MANIFEST_RECORD_BYTES = 36;

/** The size field's limit: larger entries are recorded as this, which means "at least". */
export const MANIFEST_SIZE_LIMIT = 0xffffffff;

/** The most records a manifest holds; readers ignore the rest. */
export const MAX_MANIFEST_RECORDS = 200_000;

/** The most bytes a manifest holds: readers read no more, and writers never write more. */
export const MAX_MANIFEST_BYTES = MANIFEST_HEADER_BYTES +
  MAX_MANIFEST_RECORDS * MANIFEST_RECORD_BYTES;

const MAGIC = [0x47, 0x43, 0x50, 0x4d]; // "GCPM"
const VERSION = 1;

/** One action a build used. */
export interface ManifestRecord {
  /** The ActionID in hex. */
  actionId: string;
  /** The entry's size in bytes (saturated at 2^32 - 1). */
  size: number;
}

/** A decoded manifest. */
export interface Manifest {
  /** The job-identity hash (hex) of the job that wrote the header. */
  jobHash: string;
  /** When the header was written, in Unix milliseconds. */
  createdMillis: number;
  /** The records, in first-use order; an action may repeat (appends of several go commands). */
  records: ManifestRecord[];
}

/**
 * Encodes a manifest header.
 *
 * @param jobHash 32 hex digits identifying the CI job.
 * @param createdMillis The creation time.
 * @returns The 32-byte header.
 */
export function encodeManifestHeader(jobHash: string, createdMillis: number): Uint8Array {
  const header = new Uint8Array(MANIFEST_HEADER_BYTES);
  header.set(MAGIC, 0);
  header[4] = VERSION;
  header.set(Uint8Array.fromHex(jobHash.slice(0, 32).padEnd(32, "0")), 8);
  new DataView(header.buffer).setBigUint64(
    24,
    BigInt(Math.max(0, Math.floor(createdMillis))),
    true,
  );
  return header;
}

/**
 * Encodes records.
 *
 * @param records The actions, in order.
 * @returns The bytes to append after a header.
 */
export function encodeManifestRecords(records: readonly ManifestRecord[]): Uint8Array {
  const bytes = new Uint8Array(records.length * MANIFEST_RECORD_BYTES);
  const view = new DataView(bytes.buffer);
  records.forEach((record, i) => {
    const offset = i * MANIFEST_RECORD_BYTES;
    bytes.set(Uint8Array.fromHex(record.actionId), offset);
    view.setUint32(offset + 32, Math.min(record.size, MANIFEST_SIZE_LIMIT), true);
  });
  return bytes;
}

/**
 * Decodes a manifest. A value that is not one (wrong magic or version, a length that is
 * not whole records) is refused, so a damaged manifest is ignored rather than followed.
 *
 * @param value The stored bytes.
 * @returns The manifest, or `undefined`.
 */
export function decodeManifest(value: Uint8Array): Manifest | undefined {
  if (value.length < MANIFEST_HEADER_BYTES) return undefined;
  if (MAGIC.some((byte, i) => value[i] !== byte) || value[4] !== VERSION) return undefined;
  if ((value.length - MANIFEST_HEADER_BYTES) % MANIFEST_RECORD_BYTES !== 0) return undefined;
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  const count = Math.min(
    (value.length - MANIFEST_HEADER_BYTES) / MANIFEST_RECORD_BYTES,
    MAX_MANIFEST_RECORDS,
  );
  const records: ManifestRecord[] = [];
  for (let i = 0; i < count; i++) {
    const offset = MANIFEST_HEADER_BYTES + i * MANIFEST_RECORD_BYTES;
    records.push({
      actionId: value.subarray(offset, offset + 32).toHex(),
      size: view.getUint32(offset + 32, true),
    });
  }
  return {
    jobHash: value.subarray(8, 24).toHex(),
    createdMillis: Number(view.getBigUint64(24, true)),
    records,
  };
}
