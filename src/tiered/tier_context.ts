/**
 * What the parts of the remote tier share: the link to the remote, the local store they
 * fill or read, where they report, the clock, and whether the remote may be written.
 *
 * @module
 */

import type { LocalStore } from "../store.ts";
import type { Clock } from "../util/clock.ts";
import type { Logger } from "../util/log.ts";
import type { RemoteLink } from "./remote_link.ts";

/** The remote tier's shared pieces, made once by the remote-backed store. */
export interface TierContext {
  /** The link to the remote. */
  link: RemoteLink;
  /** The local store: every file the go command is given is in it. */
  local: LocalStore;
  /** Where warnings go. */
  logger: Logger;
  /** The clock every wait and every measurement uses. */
  clock: Clock;
  /** Never write to the remote, not even to delete a corrupt value. */
  readOnly: boolean;
}
