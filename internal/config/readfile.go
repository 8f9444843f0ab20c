package config

import (
	"fmt"
	"io"
	"os"
	"syscall"
)

// maxConfigFile bounds one config file (the main one or an include). Real configs are a few
// KB; the cap keeps `INCLUDE = /dev/zero` or a huge file from exhausting memory.
const maxConfigFile = 1 << 20

// readConfigFile reads a config file that must be a regular file of at most maxConfigFile
// bytes. It opens without blocking, so a FIFO named by INCLUDE is refused instead of hanging
// the load, and it checks the file it opened (not the path), so a path swapped after a stat
// cannot slip a device or FIFO in.
func readConfigFile(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("it is %s, not a regular file", describeMode(st.Mode()))
	}
	if st.Size() > maxConfigFile {
		return nil, fmt.Errorf("it has %d bytes, more than a config file may (%d KB)", st.Size(), maxConfigFile>>10)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxConfigFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxConfigFile {
		return nil, fmt.Errorf("it is longer than a config file may be (%d KB)", maxConfigFile>>10)
	}
	return data, nil
}

// describeMode names a non-regular file's kind for messages.
func describeMode(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&os.ModeNamedPipe != 0:
		return "a FIFO"
	case m&os.ModeCharDevice != 0:
		return "a character device"
	case m&os.ModeDevice != 0:
		return "a block device"
	case m&os.ModeSocket != 0:
		return "a socket"
	}
	return "a special file"
}
