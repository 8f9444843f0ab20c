package remote_test

import (
	"os"
	"syscall"
	"unsafe"
)

// termios reads a terminal's attributes, to check that raw mode was undone.
func termios(f *os.File) (*syscall.Termios, error) {
	var st syscall.Termios
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), syscall.TCGETS, uintptr(unsafe.Pointer(&st)))
	if errno != 0 {
		return nil, errno
	}
	return &st, nil
}
