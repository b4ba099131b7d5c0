module.exports = require('../../tools/webpack-node-app')('mwl-mpps-service');
