// A minimal GOCACHEPROG written in Go, for the benchmark only: it serves gets
// concurrently from a GOCACHE-layout directory and declares no put. Compiled Go has no
// runtime start-up to speak of, so its build times are the floor that the go command's
// GOCACHEPROG protocol itself sets on this machine.
//
// With -redis HOST:PORT, a local miss is fetched from Redis as gocacheprog does it:
// one GETEX per action in gocacheprog's value format (a 72-byte header and the body's
// first MiB, then chunk keys), the body's SHA-256 checked against the OutputID, and
// the output and its entry written atomically in the native layout. Its remote-warm
// time is the floor for a verified remote tier on this machine.
package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

type request struct {
	ID       int64
	Command  string
	ActionID []byte
}

type response struct {
	ID       int64
	Miss     bool       `json:",omitempty"`
	OutputID []byte     `json:",omitempty"`
	Size     int64      `json:",omitempty"`
	Time     *time.Time `json:",omitempty"`
	DiskPath string     `json:",omitempty"`
}

var (
	redisAddress = flag.String("redis", "", "Redis to fetch local misses from")
	redisPrefix  = flag.String("prefix", "", "gocacheprog's --redis-prefix")
)

func main() {
	flag.Parse()
	dir := os.Getenv("GOCACHE")
	var remote *redisPool
	if *redisAddress != "" {
		remote = &redisPool{address: *redisAddress}
	}
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	encoder := json.NewEncoder(out)
	send := func(r response) {
		mu.Lock()
		defer mu.Unlock()
		encoder.Encode(r)
		out.Flush()
	}
	mu.Lock()
	out.WriteString(`{"ID":0,"KnownCommands":["get","close"]}` + "\n")
	out.Flush()
	mu.Unlock()
	decoder := json.NewDecoder(bufio.NewReader(os.Stdin))
	var pending sync.WaitGroup
	for {
		var r request
		if decoder.Decode(&r) != nil {
			break
		}
		if r.Command == "close" {
			pending.Wait()
			send(response{ID: r.ID})
			return
		}
		pending.Add(1)
		go func(r request) {
			defer pending.Done()
			answer := lookup(dir, r)
			if answer.Miss && remote != nil {
				answer = fetch(dir, remote, r)
			}
			send(answer)
		}(r)
	}
	pending.Wait()
}

func lookup(dir string, r request) response {
	action := hex.EncodeToString(r.ActionID)
	entry, err := os.ReadFile(dir + "/" + action[:2] + "/" + action + "-a")
	if err != nil || len(entry) != 175 {
		return response{ID: r.ID, Miss: true}
	}
	text := string(entry)
	output := text[68:132]
	size, _ := strconv.ParseInt(strings.TrimSpace(text[133:153]), 10, 64)
	nanos, _ := strconv.ParseInt(strings.TrimSpace(text[154:174]), 10, 64)
	path := dir + "/" + output[:2] + "/" + output + "-d"
	if info, err := os.Stat(path); err != nil || info.Size() != size {
		return response{ID: r.ID, Miss: true}
	}
	outputID, _ := hex.DecodeString(output)
	when := time.Unix(0, nanos)
	return response{ID: r.ID, OutputID: outputID, Size: size, Time: &when, DiskPath: path}
}

const headerBytes = 72

// fetch serves a local miss from Redis: verified, then written in the native layout.
func fetch(dir string, remote *redisPool, r request) response {
	miss := response{ID: r.ID, Miss: true}
	action := hex.EncodeToString(r.ActionID)
	key := "gocacheprog:" + prefixPart() + "{" + action + "}"
	head, err := remote.getex(key)
	if err != nil || len(head) < headerBytes || string(head[:4]) != "GCPR" || head[5] != 0 {
		return miss
	}
	outputID := head[8:40]
	size := int64(binary.LittleEndian.Uint64(head[40:48]))
	nanos := int64(binary.LittleEndian.Uint64(head[48:56]))
	chunks := int(binary.LittleEndian.Uint32(head[64:68]))
	body := head[headerBytes:]
	for index := 1; index < chunks; index++ {
		chunk, err := remote.getex(fmt.Sprintf("%s:%s:%d", key, hex.EncodeToString(outputID)[:16], index))
		if err != nil || chunk == nil {
			return miss
		}
		body = append(body, chunk...)
	}
	if int64(len(body)) != size {
		return miss
	}
	if digest := sha256.Sum256(body); !bytes.Equal(digest[:], outputID) {
		return miss
	}
	output := hex.EncodeToString(outputID)
	path := dir + "/" + output[:2] + "/" + output + "-d"
	if writeAtomic(path, body) != nil {
		return miss
	}
	entry := fmt.Sprintf("v1 %s %s %20d %20d\n", action, output, size, nanos)
	if writeAtomic(dir+"/"+action[:2]+"/"+action+"-a", []byte(entry)) != nil {
		return miss
	}
	when := time.Unix(0, nanos)
	return response{ID: r.ID, OutputID: outputID, Size: size, Time: &when, DiskPath: path}
}

func prefixPart() string {
	if *redisPrefix == "" {
		return ""
	}
	return *redisPrefix + ":"
}

func writeAtomic(path string, data []byte) error {
	os.MkdirAll(path[:strings.LastIndexByte(path, '/')], 0o777)
	temp := fmt.Sprintf("%s.tmp-%d-%d", path, os.Getpid(), time.Now().UnixNano())
	if err := os.WriteFile(temp, data, 0o666); err != nil {
		os.Remove(temp)
		return err
	}
	return os.Rename(temp, path)
}

// redisPool keeps idle connections for reuse: one per concurrent request at most.
type redisPool struct {
	address string
	mu      sync.Mutex
	idle    []*redisConn
}

type redisConn struct {
	conn   net.Conn
	reader *bufio.Reader
}

func (p *redisPool) getex(key string) ([]byte, error) {
	p.mu.Lock()
	var c *redisConn
	if n := len(p.idle); n > 0 {
		c, p.idle = p.idle[n-1], p.idle[:n-1]
	}
	p.mu.Unlock()
	if c == nil {
		conn, err := net.Dial("tcp", p.address)
		if err != nil {
			return nil, err
		}
		c = &redisConn{conn: conn, reader: bufio.NewReaderSize(conn, 1<<16)}
	}
	value, err := c.command("GETEX", key, "PX", "604800000")
	if err != nil {
		c.conn.Close()
		return nil, err
	}
	p.mu.Lock()
	p.idle = append(p.idle, c)
	p.mu.Unlock()
	return value, nil
}

func (c *redisConn) command(args ...string) ([]byte, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, arg := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(arg), arg)
	}
	if _, err := c.conn.Write([]byte(b.String())); err != nil {
		return nil, err
	}
	line, err := c.reader.ReadString('\n')
	if err != nil {
		return nil, err
	}
	if line[0] != '$' {
		return nil, errors.New(strings.TrimSpace(line))
	}
	length, _ := strconv.Atoi(strings.TrimSpace(line[1:]))
	if length < 0 {
		return nil, nil
	}
	value := make([]byte, length+2)
	if _, err := io.ReadFull(c.reader, value); err != nil {
		return nil, err
	}
	return value[:length], nil
}
