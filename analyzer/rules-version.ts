// Owns the analyzer rules version: bump whenever detectors change what they report, so that stored
// policies made by older rules are re-analyzed before they are diffed.
export const RULES_VERSION = '3';
