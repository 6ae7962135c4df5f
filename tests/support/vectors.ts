/**
 * IDs shared by the tests: the protocol document's test vectors (in the wire's base64
 * and in hex), and numbered ActionIDs.
 *
 * @module
 */

/** The vectors' first ActionID, on the wire. */
export const A1 = "oFqyzTFO7RKrD83sqkbcEhxpNwvI031yvmypiUZPdsQ=";
/** The same, in hex. */
export const A1_HEX = "a05ab2cd314eed12ab0fcdecaa46dc121c69370bc8d37d72be6ca989464f76c4";
/** The vectors' second ActionID, on the wire. */
export const A2 = "jlnO4wpl4Sj6No4nfqv24C+UwENq0iMDOzWrPNRwyDE=";
/** The OutputID of `hello`, on the wire. */
export const O_HELLO = "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=";
/** The same, in hex. */
export const O_HELLO_HEX = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
/** The OutputID of an empty body, on the wire. */
export const O_EMPTY = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
/** The same, in hex. */
export const O_EMPTY_HEX = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/**
 * A numbered ActionID, for tests that need many.
 *
 * @param n The number.
 * @returns 64 hex digits.
 */
export function id(n: number): string {
  return n.toString(16).padStart(64, "0");
}
