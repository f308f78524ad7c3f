// A bearer token read from a file (a kubeconfig user's `tokenFile`, the pod's service account token), plugged
// into the client library as an authenticator: the library reads a kubeconfig's token file once at load
// under another key and keeps the service account token untrimmed for 60 s even after a 401. Here the file
// is re-read every minute (the kubelet rotates projected tokens in place) and at once after a 401, and its
// surrounding whitespace is not sent.
import { readFile } from 'node:fs/promises';
import { isPlainObject } from '../api/plain-object.ts';
import type { AuthOptions } from './exec-authenticator.ts';

const TOKEN_FILE_TTL_MS = 60_000;

export class TokenFileAuthenticator {
  readonly #userName: string;
  readonly #path: string;
  #token: { value: string; readAt: number } | undefined;

  constructor(userName: string, path: string) {
    this.#userName = userName;
    this.#path = path;
  }

  isAuthProvider(user: { name: string }): boolean {
    return user.name === this.#userName;
  }

  async applyAuthentication(_user: unknown, opts: AuthOptions): Promise<void> {
    const now = Date.now();
    if (!this.#token || now - this.#token.readAt > TOKEN_FILE_TTL_MS) {
      let value: string;
      try {
        value = (await readFile(this.#path, 'utf8')).trim();
      } catch (error) {
        throw new Error(`cannot read the token file ${this.#path}: ${(error as Error).message}`);
      }
      this.#token = { value, readAt: now };
    }
    const headers = isPlainObject(opts.headers) ? opts.headers : {};
    headers.Authorization = `Bearer ${this.#token.value}`;
    opts.headers = headers;
  }

  /** The API server refused the token: read the file again on the next request. */
  forget(): boolean {
    this.#token = undefined;
    return true;
  }
}
