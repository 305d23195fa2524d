// Minimal types for npm-pick-manifest (the package ships none): npm's own version picker.
declare module 'npm-pick-manifest' {
  interface PickOptions {
    defaultTag?: string;
    before?: string | Date | null;
    nodeVersion?: string;
    npmVersion?: string | null;
    includeStaged?: boolean;
  }
  interface PickedManifest {
    readonly name: string;
    readonly version: string;
    readonly [key: string]: unknown;
  }
  function pickManifest(packument: unknown, wanted: string, opts?: PickOptions): PickedManifest;
  export = pickManifest;
}
