// Owns how Verdaccio finds the plugin: @verdaccio/loaders requires `<plugins folder>/verdaccio-<id>`
// for the `middlewares: capgate:` entry, so `plugins:` points at this compiled folder
// (dist/plugin/loader) and this module re-exports the plugin class as its default export.
import CapgatePlugin from '../index';

export default CapgatePlugin;
