module.exports = require('../../tools/webpack-node-app')('config-service');
