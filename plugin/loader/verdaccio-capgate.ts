// Owns how Verdaccio finds the plugin: @verdaccio/loaders requires `<plugins folder>/verdaccio-<id>`
// for the `middlewares: capgate:` and `filters: capgate:` entries, so `plugins:` points at this
// compiled folder (dist/plugin/loader) and this module re-exports the plugin class (middleware and
// filter in one, sharing one core per Verdaccio config) as its default export.
import CapgatePlugin from '../index';

export default CapgatePlugin;
