package main

import (
	"net/netip"
	"testing"
)

func TestClientAddrTrustsForwardedForOnlyFromTrustedProxies(t *testing.T) {
	proxies, err := parseProxies("10.0.0.0/8, 192.168.1.7, 2001:db8::/32")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		remote    string
		forwarded []string
		trusted   []netip.Prefix
		want      string
	}{
		{"no proxies configured: the connection", "203.0.113.5:4000", []string{"198.51.100.1"}, nil, "203.0.113.5"},
		{"a client that is not a proxy cannot pick its address", "203.0.113.5:4000", []string{"198.51.100.1"}, proxies, "203.0.113.5"},
		{"one proxy: the address it saw", "10.1.2.3:4000", []string{"198.51.100.1"}, proxies, "198.51.100.1"},
		{"a forged entry left of the client is ignored", "10.1.2.3:4000", []string{"1.2.3.4, 198.51.100.1"}, proxies, "198.51.100.1"},
		{"two proxies", "10.1.2.3:4000", []string{"198.51.100.1, 192.168.1.7"}, proxies, "198.51.100.1"},
		{"two headers read as one list", "10.1.2.3:4000", []string{"1.2.3.4, 198.51.100.1", "192.168.1.7"}, proxies, "198.51.100.1"},
		{"only proxies: the farthest", "10.1.2.3:4000", []string{"10.9.9.9"}, proxies, "10.9.9.9"},
		{"a proxy without the header: the proxy", "10.1.2.3:4000", nil, proxies, "10.1.2.3"},
		{"garbage from the client stops at the proxy", "10.1.2.3:4000", []string{"not-an-ip"}, proxies, "10.1.2.3"},
		{"IPv6", "[2001:db8::1]:4000", []string{"2001:db9::7"}, proxies, "2001:db9::7"},
		{"an IPv4-mapped address is the IPv4 one", "10.1.2.3:4000", []string{"::ffff:198.51.100.1"}, proxies, "198.51.100.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := clientAddr(tt.remote, tt.forwarded, tt.trusted); got != tt.want {
				t.Errorf("clientAddr = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestTrustedProxiesRefuseWhatIsNotANetwork(t *testing.T) {
	if _, err := parseProxies("10.0.0.0/8, proxy.example.it"); err == nil {
		t.Fatal("a host name was accepted as a trusted proxy")
	}
}
