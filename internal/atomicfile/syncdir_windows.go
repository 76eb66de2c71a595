package atomicfile

// syncDir does nothing: Windows opens no directory for writing, and
// FlushFileBuffers needs a handle with write access.
func syncDir(string) error { return nil }
