package main

import (
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
	"time"
)

// loadOrCreateCert loads -cert/-key, or makes a self-signed certificate for
// 127.0.0.1/localhost (pyvmomi needs TLS). It returns the PEM path clients may trust.
func loadOrCreateCert(certFile, keyFile, certOut string) (tls.Certificate, string, error) {
	if certFile != "" {
		if keyFile == "" {
			keyFile = certFile
		}
		c, err := tls.LoadX509KeyPair(certFile, keyFile)
		return c, certFile, err
	}

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, "", err
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "localhost", Organization: []string{"vcsim-harness"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(30 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true, // self-signed: lets clients use it directly as their CA file
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, "", err
	}
	if certOut != "" {
		pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
		if err := os.WriteFile(certOut, pemBytes, 0o644); err != nil {
			return tls.Certificate{}, "", err
		}
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, certOut, nil
}
