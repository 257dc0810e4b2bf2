// dynalite in memory on a free loopback port, for one test process (tests/dynalite/server.py).
// Tables are ACTIVE at once (no CREATING/DELETING delay). Prints "LISTENING <port>"; exits when
// its standard input closes, so a test process that dies takes its dynalite with it.
'use strict'
const dynalite = require('dynalite')

const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 })
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`LISTENING ${server.address().port}\n`)
})
process.stdin.on('end', () => process.exit(0))
process.stdin.resume()
process.on('SIGTERM', () => process.exit(0))
