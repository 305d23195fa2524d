// Owns `capgate serve`: starts the gated Verdaccio registry. (Placeholder until the plugin room lands it.)
export interface ServeOptions {
  readonly config?: string;
  readonly port?: number;
}

export async function runServe(_opts: ServeOptions): Promise<void> {
  throw new Error('capgate serve is not implemented yet');
}
