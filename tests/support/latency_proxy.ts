/**
 * A TCP proxy that adds latency to every round trip, and can limit each connection's
 * bandwidth, for the benchmark and the tests.
 *
 * @module
 */

/** A TCP proxy that adds latency, started by {@linkcode startLatencyProxy}. */
export interface LatencyProxy extends AsyncDisposable {
  /** The port it listens on (127.0.0.1). */
  port: number;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

/**
 * A TCP proxy on 127.0.0.1 that adds `delayMillis` to every round trip: each chunk is
 * forwarded `delayMillis / 2` after it arrives, in order, in each direction, so
 * pipelining is kept (a pipeline of 100 commands costs one added round trip, not 100).
 * One upstream connection per client; Nagle is off on both sides.
 *
 * With `bytesPerSecond`, each direction of each connection is a link of that bandwidth:
 * a chunk leaves no sooner than the link has carried the chunks before it. The proxy
 * holds at most 1 MiB per direction, then stops reading, so that the sender's writes
 * block as they would on a real link.
 *
 * @param upstreamPort The port to forward to, on 127.0.0.1.
 * @param delayMillis The added round-trip time.
 * @param options The bandwidth of each direction of a connection; unlimited by default.
 * @returns The running proxy.
 */
export function startLatencyProxy(
  upstreamPort: number,
  delayMillis: number,
  options: { bytesPerSecond?: number } = {},
): LatencyProxy {
  const bytesPerMilli = (options.bytesPerSecond ?? Infinity) / 1000;
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const connections = new Set<Deno.Conn>();
  const oneWay = delayMillis / 2;
  // Deno's timers fire 1.1-1.4 ms late here: a proxy that asked for 2.5 ms each way gave
  // 7.2 ms round trips instead of 5. How late they fire is learned, and asked for less.
  let lateness = 0;
  const sleepUntil = async (due: number) => {
    const asked = Math.max(0, due - performance.now() - lateness);
    const started = performance.now();
    await new Promise((resolve) => setTimeout(resolve, asked));
    lateness = 0.8 * lateness + 0.2 * Math.max(0, performance.now() - started - asked);
  };
  const pump = async (from: Deno.Conn, to: Deno.Conn) => {
    const queue: { due: number; data: Uint8Array }[] = [];
    let ended = false;
    let wake: (() => void) | undefined;
    let queued = 0;
    let drained: (() => void) | undefined;
    let stopped = false;
    /** When the link finishes carrying what was queued before. */
    let linkFree = 0;
    const reading = (async () => {
      const buffer = new Uint8Array(65536);
      try {
        for (;;) {
          while (queued > 1 << 20 && !stopped) {
            await new Promise<void>((resolve) => drained = resolve);
          }
          if (stopped) break;
          const count = await from.read(buffer);
          if (count === null) break;
          const now = performance.now();
          linkFree = Math.max(linkFree, now) + count / bytesPerMilli;
          queue.push({ due: Math.max(now + oneWay, linkFree), data: buffer.slice(0, count) });
          queued += count;
          wake?.();
        }
      } catch {
        // the connection was closed
      }
      ended = true;
      wake?.();
    })();
    try {
      for (;;) {
        const next = queue[0];
        if (next === undefined) {
          if (ended) break;
          await new Promise<void>((resolve) => wake = resolve);
          wake = undefined;
          continue;
        }
        if (next.due > performance.now()) await sleepUntil(next.due);
        queue.shift();
        let written = 0;
        while (written < next.data.length) written += await to.write(next.data.subarray(written));
        queued -= next.data.length;
        drained?.();
        drained = undefined;
      }
      await to.closeWrite().catch(() => {});
    } catch {
      // the other side went away
    }
    stopped = true;
    drained?.();
    await reading;
  };
  const accepting = (async () => {
    for await (const client of listener) {
      client.setNoDelay(true);
      let upstream: Deno.TcpConn;
      try {
        upstream = await Deno.connect({ hostname: "127.0.0.1", port: upstreamPort });
      } catch {
        client.close();
        continue;
      }
      upstream.setNoDelay(true);
      connections.add(client).add(upstream);
      Promise.all([pump(client, upstream), pump(upstream, client)]).finally(() => {
        for (const conn of [client, upstream]) {
          connections.delete(conn);
          try {
            conn.close();
          } catch {
            // already closed
          }
        }
      });
    }
  })().catch(() => {});
  const close = async () => {
    listener.close();
    for (const conn of connections) {
      try {
        conn.close();
      } catch {
        // already closed
      }
    }
    await accepting;
  };
  return { port: (listener.addr as Deno.NetAddr).port, close, [Symbol.asyncDispose]: close };
}

/**
 * {@linkcode startLatencyProxy} in a process of its own, so that moving megabytes through
 * it never holds up the event loop of the process being measured.
 *
 * @param upstreamPort The port to forward to, on 127.0.0.1.
 * @param delayMillis The added round-trip time.
 * @param options The bandwidth of each direction of a connection; unlimited by default.
 * @returns The running proxy; closing it stops the process.
 */
export async function spawnLatencyProxy(
  upstreamPort: number,
  delayMillis: number,
  options: { bytesPerSecond?: number } = {},
): Promise<LatencyProxy> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-prompt",
      "--allow-net=127.0.0.1",
      import.meta.filename!,
      String(upstreamPort),
      String(delayMillis),
      String(options.bytesPerSecond ?? Infinity),
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.getReader();
  const { value } = await reader.read();
  reader.releaseLock();
  await child.stdout.cancel();
  const port = Number(new TextDecoder().decode(value).trim());
  if (!Number.isInteger(port) || port <= 0) throw new Error("The latency proxy did not start");
  const close = async () => {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
    await child.status;
  };
  return { port, close, [Symbol.asyncDispose]: close };
}

if (import.meta.main) {
  const [upstream, delay, rate] = Deno.args.map(Number);
  const proxy = startLatencyProxy(upstream!, delay!, { bytesPerSecond: rate! });
  Deno.stdout.writeSync(new TextEncoder().encode(`${proxy.port}\n`));
}
