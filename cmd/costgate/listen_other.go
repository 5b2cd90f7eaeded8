//go:build !unix

package main

import "errors"

func setReceiveBuffer(fd uintptr, bytes int) error {
	return errors.New("not supported on this system")
}

func getReceiveBuffer(fd uintptr) int { return 0 }
