/** A file in the study store as a worker names it in a report: relative to STORE_DIR, no escape. */
export const STORED_PATH = /^studies\/[0-9.]+\/[0-9.]+\/[0-9.]+\.dcm$/;
