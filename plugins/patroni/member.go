package patroni

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
)

// ErrNameTaken is CheckName's error when another live member uses
// PATRONI_NAME.
var ErrNameTaken = errors.New("already used by another live member of the cluster")

// memberKey is Patroni's etcd3 key of a member (default namespace /service).
func memberKey(scope, name string) string { return "/service/" + scope + "/members/" + name }

// CheckName refuses to start a second member under a name a live member
// already uses: Patroni itself would let both overwrite the same member key.
// It reads the member key from etcd (v3 JSON gateway); when a member with
// this name is registered at another REST address and that address answers
// GET /patroni, the name is taken. A stale key (the same container
// restarted with a new address, its old Patroni gone) is not an error, and
// neither is etcd being unreachable (Patroni waits for it).
func CheckName(ctx context.Context, c Config, client *http.Client) error {
	if client == nil {
		client = &http.Client{Timeout: RESTTimeout, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	}
	value, err := etcdGet(ctx, client, c.ETCDHosts, memberKey(c.Scope, c.Name))
	if err != nil || value == nil {
		return nil
	}
	var m struct {
		APIURL string `json:"api_url"`
	}
	if json.Unmarshal(value, &m) != nil || m.APIURL == "" {
		return nil
	}
	ours := "http://" + net.JoinHostPort(c.RESTConnectHost, strconv.Itoa(c.RESTPort)) + "/patroni"
	if m.APIURL == ours {
		return nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.APIURL, nil)
	if err != nil {
		return nil
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil // the registered member is gone: a stale key
	}
	defer resp.Body.Close()
	var n struct {
		Patroni struct {
			Scope string `json:"scope"`
		} `json:"patroni"`
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if json.Unmarshal(body, &n) != nil || n.Patroni.Scope != c.Scope {
		return nil
	}
	return fmt.Errorf("%q is %w: the member of scope %q with this name answers at %s; give every member its own PATRONI_NAME", c.Name, ErrNameTaken, c.Scope, strings.TrimSuffix(m.APIURL, "/patroni"))
}

// etcdGet reads one key through etcd's v3 JSON gateway, trying each host;
// nil value means the key does not exist.
func etcdGet(ctx context.Context, client *http.Client, hosts []string, key string) ([]byte, error) {
	body, _ := json.Marshal(map[string]string{"key": base64.StdEncoding.EncodeToString([]byte(key))})
	var lastErr error = errors.New("no etcd host")
	for _, h := range hosts {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+h+"/v3/kv/range", bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			lastErr = err
			continue
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			lastErr = fmt.Errorf("etcd %s: HTTP %d %v", h, resp.StatusCode, err)
			continue
		}
		var r struct {
			KVs []struct {
				Value string `json:"value"`
			} `json:"kvs"`
		}
		if err := json.Unmarshal(b, &r); err != nil {
			lastErr = fmt.Errorf("etcd %s: %w", h, err)
			continue
		}
		if len(r.KVs) == 0 {
			return nil, nil
		}
		return base64.StdEncoding.DecodeString(r.KVs[0].Value)
	}
	return nil, lastErr
}
