module.exports = require('../../tools/webpack-node-app')('dicomweb-worker');
