/**
 * What every command other than serving is given: the configuration, the cache
 * directory, the Redis settings, and a way to print to the person who ran it.
 *
 * @module
 */

import type { Config } from "../config.ts";
import type { RemoteSettings } from "../remote_settings.ts";

/** What a command works on, and where it prints. */
export interface CommandContext {
  /** The parsed configuration. */
  config: Config;
  /** The local store's directory. */
  dir: string;
  /** The Redis settings, when Redis is configured. */
  remote?: RemoteSettings;
  /** Prints one line to the user. */
  print: (line: string) => void;
}
