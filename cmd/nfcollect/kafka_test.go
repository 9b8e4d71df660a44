package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
)

func TestKafkaFlagValidation(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--kafka-topic", "x"}, "--kafka-topic needs --kafka"},
		{[]string{"--kafka", "localhost"}, "want comma-separated host:port"},
		{[]string{"--kafka", "h:1", "--kafka-format", "avro"}, "want protobuf or json"},
		{[]string{"--kafka", "h:1", "--kafka-format", "json", "--kafka-extensions=false"}, "--kafka-extensions applies to --kafka-format protobuf"},
		{[]string{"--kafka", "h:1", "--kafka-acks", "2"}, "want all, leader or none"},
		{[]string{"--kafka", "h:1", "--kafka-compression", "brotli"}, "want one of zstd, lz4, snappy, gzip, none"},
		{[]string{"--kafka", "h:1", "--kafka-sasl", "plain"}, "needs --kafka-user and --kafka-password-file"},
		{[]string{"--kafka", "h:1", "--kafka-sasl", "gssapi", "--kafka-user", "u", "--kafka-password-file", "f"}, "want plain, scram-sha-256 or scram-sha-512"},
		{[]string{"--kafka", "h:1", "--kafka-tls-cert", "c.pem"}, "go together"},
		{[]string{"--kafka", "h:1", "--kafka-create-topic", "-1"}, "--kafka-create-topic -1"},
		{[]string{"--kafka", "h:1", "--kafka-linger", "0s"}, "--kafka-linger 0s"},
		{[]string{"--kafka", "h:1", "--kafka-timeout", "500ms"}, "must be at least 1s"},
		{[]string{"--kafka", "h:1", "--kafka-spool-mib", "0"}, "--kafka-spool-mib 0"},
	} {
		stdout, stderr := tempFile(t), tempFile(t)
		if code := run(c.args, stdout, stderr); code != 2 {
			t.Errorf("%v: exit %d, want 2", c.args, code)
		}
		if msg := readAll(t, stderr); !strings.Contains(msg, c.want) {
			t.Errorf("%v: %q, want %q", c.args, msg, c.want)
		}
	}
	// Files named by flags are read at start; a missing one stops nfcollect.
	stdout, stderr := tempFile(t), tempFile(t)
	code := run([]string{"-r", "../../testdata/softflowd-v5.pcap", "--kafka", "127.0.0.1:1", "--kafka-sasl", "plain",
		"--kafka-user", "u", "--kafka-password-file", filepath.Join(t.TempDir(), "missing")}, stdout, stderr)
	if msg := readAll(t, stderr); code != 1 || !strings.Contains(msg, "--kafka-password-file") {
		t.Errorf("missing password file: exit %d, %q", code, msg)
	}
}

// jsonLines returns nfcollect's JSON output of a capture.
func jsonLines(t *testing.T, capture string) []string {
	t.Helper()
	stdout, stderr := tempFile(t), tempFile(t)
	if code := run([]string{"-r", capture, "-o", "-", "--stats-interval", "-1s"}, stdout, stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, readAll(t, stderr))
	}
	return strings.Split(strings.TrimSuffix(readAll(t, stdout), "\n"), "\n")
}

// consume reads want records of topic from the start (or until 30 s pass).
func consume(t *testing.T, addr, topic string, want int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []*kgo.Record
	for deadline := time.Now().Add(30 * time.Second); len(out) < want && time.Now().Before(deadline); {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) { out = append(out, r) })
		cancel()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) { out = append(out, r) })
	cancel()
	return out
}

// nfcollect cannot reach Kafka: the flows wait in the spool, and the next
// run, with the broker up, delivers them first, then its own.
func TestKafkaSpoolAcrossRestart(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close() // nothing listens there during the first run
	addr := "127.0.0.1:" + strconv.Itoa(port)
	spool := filepath.Join(t.TempDir(), "spool")
	first, second := "../../testdata/softflowd-v9.pcap", "../../testdata/softflowd-ipfix.pcap"
	args := func(capture string) []string {
		return []string{"-r", capture, "--kafka", addr, "--kafka-topic", "flows", "--kafka-format", "json",
			"--kafka-spool", spool, "--kafka-timeout", "1s", "--kafka-linger", "100ms",
			"--shutdown-timeout", "1s", "--stats-interval", "-1s"}
	}
	stdout, stderr := tempFile(t), tempFile(t)
	if code := run(args(first), stdout, stderr); code != 0 {
		t.Fatalf("first run: exit %d: %s", code, readAll(t, stderr))
	}
	segs, _ := filepath.Glob(filepath.Join(spool, "*.seg"))
	if len(segs) == 0 {
		t.Fatalf("first run left nothing in the spool: %s", readAll(t, stderr))
	}
	if log := readAll(t, stderr); !strings.Contains(log, "batches left for the next run") {
		t.Errorf("first run does not say it left batches in the spool:\n%s", log)
	}

	c, err := kfake.NewCluster(kfake.Ports(port), kfake.SeedTopics(2, "flows"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	stdout, stderr = tempFile(t), tempFile(t)
	if code := run(args(second), stdout, stderr); code != 0 {
		t.Fatalf("second run: exit %d: %s", code, readAll(t, stderr))
	}
	want := append(jsonLines(t, first), jsonLines(t, second)...)
	got := consume(t, addr, "flows", len(want))
	if len(got) != len(want) {
		t.Fatalf("%d records in the topic, want %d\n%s", len(got), len(want), readAll(t, stderr))
	}
	for i, r := range got {
		if string(r.Value) != want[i] {
			t.Fatalf("record %d:\n%s\nwant\n%s", i, r.Value, want[i])
		}
	}
	if rest, _ := filepath.Glob(filepath.Join(spool, "*.seg")); len(rest) > 0 {
		t.Errorf("spool still holds %v", rest)
	}
}

// writeCert writes a self-signed certificate for 127.0.0.1 and its key as
// PEM files, and returns them with the certificate.
func writeCert(t *testing.T) (certFile, keyFile string, cert tls.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kfake"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err = tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, cert
}

// TLS with a CA file and SASL PLAIN with a password file.
func TestKafkaTLSAndSASL(t *testing.T) {
	caFile, _, cert := writeCert(t)
	c, err := kfake.NewCluster(kfake.ListenFn(func(network, _ string) (net.Listener, error) {
		return net.Listen("tcp", "127.0.0.1:0")
	}), kfake.TLS(&tls.Config{Certificates: []tls.Certificate{cert}}),
		kfake.EnableSASL(), kfake.Superuser("PLAIN", "nf", "s3cret"), kfake.SeedTopics(1, "flows"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	pass := filepath.Join(t.TempDir(), "pass")
	if err := os.WriteFile(pass, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	capture := "../../testdata/softflowd-v5.pcap"
	stdout, stderr := tempFile(t), tempFile(t)
	if code := run([]string{"-r", capture, "--kafka", c.ListenAddrs()[0], "--kafka-format", "json",
		"--kafka-tls-ca", caFile, "--kafka-sasl", "plain", "--kafka-user", "nf", "--kafka-password-file", pass,
		"--stats-interval", "-1s"}, stdout, stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, readAll(t, stderr))
	}
	want := jsonLines(t, capture)
	pool := x509.NewCertPool()
	pool.AddCert(cert.Leaf)
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumeTopics("flows"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DialTLSConfig(&tls.Config{RootCAs: pool}),
		kgo.SASL(plain.Auth{User: "nf", Pass: "s3cret"}.AsMechanism()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var got []string
	for deadline := time.Now().Add(30 * time.Second); len(got) < len(want) && time.Now().Before(deadline); {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
		cancel()
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%d records over TLS + SASL, want the %d JSON lines", len(got), len(want))
	}
}
