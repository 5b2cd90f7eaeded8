package gate

import "syscall"

const mapPopulate = syscall.MAP_POPULATE
