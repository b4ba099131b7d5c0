module.exports = require('../../tools/webpack-node-app')('dimse-worker');
