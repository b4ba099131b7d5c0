// The `store-pooled` tier: the store's file calls through libuv's thread pool (STORE_IO=pooled, the
// mode for network filesystems), read by libs/store's file-io when it loads, before any test does.
process.env['STORE_IO'] = 'pooled';
