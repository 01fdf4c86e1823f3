// Command tiny is the engine tests' container: a static binary imported as an
// image, so the driver's tests need a Docker Engine and nothing else.
//
//	tiny            serve: log "tiny ready", echo on :8080, mark healthy after
//	                TINY_HEALTHY_AFTER, exit TINY_EXIT (default 0) on SIGTERM
//	tiny health     exit 0 once serve marked healthy
//	tiny cat FILE   print FILE
//	tiny dial ADDR  connect to ADDR (2 s timeout) and print the first line
package main

import (
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

const marker = "/tmp/healthy"

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "health":
			if _, err := os.Stat(marker); err != nil {
				fmt.Println("not yet")
				os.Exit(1)
			}
			fmt.Println("ok")
			return
		case "dial":
			c, err := net.DialTimeout("tcp", os.Args[2], 2*time.Second)
			if err != nil {
				fmt.Println(err)
				os.Exit(1)
			}
			_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
			b := make([]byte, 64)
			n, err := c.Read(b)
			c.Close()
			if err != nil {
				fmt.Println(err)
				os.Exit(1)
			}
			os.Stdout.Write(b[:n])
			return
		case "cat":
			b, err := os.ReadFile(os.Args[2])
			if err != nil {
				fmt.Println(err)
				os.Exit(1)
			}
			os.Stdout.Write(b)
			return
		}
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	ln, err := net.Listen("tcp", ":8080")
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			fmt.Fprintln(c, "hello")
			c.Close()
		}
	}()
	fmt.Println("tiny ready")
	after, _ := time.ParseDuration(os.Getenv("TINY_HEALTHY_AFTER"))
	time.AfterFunc(after, func() { _ = os.WriteFile(marker, nil, 0o644) })
	s := <-sig
	fmt.Println("bye on", s)
	code, _ := strconv.Atoi(os.Getenv("TINY_EXIT"))
	os.Exit(code)
}
