/**
 * TLS certificates made with openssl at test time.
 *
 * @module
 */

import { requireTool } from "./tools.ts";

/** Certificate files made by {@linkcode makeTlsCertificates}. */
export interface TlsFiles {
  /** The CA certificate. */
  ca: string;
  /** The server's certificate (for 127.0.0.1 and localhost). */
  serverCert: string;
  /** The server's key. */
  serverKey: string;
  /** A client certificate signed by the CA. */
  clientCert: string;
  /** The client's key. */
  clientKey: string;
}

/**
 * Makes a CA, a server certificate for 127.0.0.1 and localhost, and a client
 * certificate, with `openssl`, at test time.
 *
 * @param dir Where to write them.
 * @returns Their paths.
 */
export async function makeTlsCertificates(dir: string): Promise<TlsFiles> {
  const openssl = requireTool("openssl");
  const run = async (...args: string[]) => {
    const output = await new Deno.Command(openssl, { args, stdout: "piped", stderr: "piped" })
      .output();
    if (!output.success) {
      throw new Error(`openssl ${args[0]} failed: ${new TextDecoder().decode(output.stderr)}`);
    }
  };
  const files: TlsFiles = {
    ca: `${dir}/ca.crt`,
    serverCert: `${dir}/server.crt`,
    serverKey: `${dir}/server.key`,
    clientCert: `${dir}/client.crt`,
    clientKey: `${dir}/client.key`,
  };
  await run(
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "2",
    "-subj",
    "/CN=gocacheprog test CA",
    "-keyout",
    `${dir}/ca.key`,
    "-out",
    files.ca,
  );
  for (const [name, cn] of [["server", "localhost"], ["client", "gocacheprog client"]] as const) {
    await run(
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-subj",
      `/CN=${cn}`,
      "-keyout",
      `${dir}/${name}.key`,
      "-out",
      `${dir}/${name}.csr`,
    );
    await Deno.writeTextFile(`${dir}/${name}.ext`, "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
    await run(
      "x509",
      "-req",
      "-in",
      `${dir}/${name}.csr`,
      "-CA",
      files.ca,
      "-CAkey",
      `${dir}/ca.key`,
      "-CAcreateserial",
      "-days",
      "2",
      "-extfile",
      `${dir}/${name}.ext`,
      "-out",
      `${dir}/${name}.crt`,
    );
  }
  return files;
}
