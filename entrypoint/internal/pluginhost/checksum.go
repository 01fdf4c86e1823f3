package pluginhost

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	plugin "github.com/hashicorp/go-plugin"
)

// readChecksums parses dir/SHA256SUMS ("<64 hex>  <file>" or
// "<64 hex> *<file>", '#' comments and blank lines ignored) into file base
// name → digest.
func readChecksums(dir string) (map[string][]byte, error) {
	path := filepath.Join(dir, ChecksumFile)
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("checksum list %s is missing: every plugin binary must be listed there (sha256sum format)", path)
	}
	if err != nil {
		return nil, fmt.Errorf("read checksum list: %w", err)
	}
	defer f.Close()
	sums := map[string][]byte{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		hexSum, file, ok := strings.Cut(line, " ")
		file = strings.TrimPrefix(strings.TrimLeft(file, " "), "*")
		sum, err := hex.DecodeString(hexSum)
		if !ok || err != nil || len(sum) != sha256.Size || file == "" {
			return nil, fmt.Errorf("%s line %d: want \"<sha256 hex>  <file name>\", got %q", path, n, line)
		}
		sums[filepath.Base(file)] = sum
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read checksum list %s: %w", path, err)
	}
	return sums, nil
}

// verifyBinary checks path against its entry in sums with go-plugin's
// SecureConfig.
func verifyBinary(path string, sums map[string][]byte) error {
	name := filepath.Base(path)
	want, ok := sums[name]
	if !ok {
		return fmt.Errorf("%s has no entry in %s: refusing to run an unlisted plugin binary (add \"$(sha256sum %s)\" at image build)",
			path, filepath.Join(filepath.Dir(path), ChecksumFile), name)
	}
	sc := &plugin.SecureConfig{Checksum: want, Hash: sha256.New()}
	match, err := sc.Check(path)
	if err != nil {
		return fmt.Errorf("checksum %s: %w", path, err)
	}
	if !match {
		got, _ := fileSHA256(path)
		return fmt.Errorf("checksum mismatch for %s: %s lists %x, the file has %s; refusing to run it (rebuild the image or fix the list)",
			path, ChecksumFile, want, got)
	}
	return nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
