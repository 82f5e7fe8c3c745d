package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
)

// Address is a postal address.
type Address struct {
	Line1   string `json:"line1"`
	City    string `json:"city"`
	Zip     string `json:"zip"`
	Country string `json:"country"`
}

// Verdict is the address API's answer.
type Verdict struct {
	Deliverable bool    `json:"deliverable"`
	Normalized  Address `json:"normalized"`
}

// AddressClient talks to the third-party address verification API.
type AddressClient struct {
	http    *http.Client
	baseURL string
}

// NewAddressClient returns a client for the API at baseURL.
func NewAddressClient(baseURL string) *AddressClient {
	return &AddressClient{http: &http.Client{}, baseURL: baseURL}
}

// Verify asks whether an address is deliverable.
func (c *AddressClient) Verify(addr Address) (Verdict, error) {
	body, err := json.Marshal(addr)
	if err != nil {
		return Verdict{}, err
	}
	req, err := http.NewRequest(http.MethodPost, c.baseURL+"/v2/verify", bytes.NewReader(body))
	if err != nil {
		return Verdict{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer addr-api-key-redacted")
	resp, err := c.http.Do(req)
	if err != nil {
		return Verdict{}, fmt.Errorf("address api: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Verdict{}, fmt.Errorf("address api: %s", resp.Status)
	}
	var v Verdict
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return Verdict{}, fmt.Errorf("address api: %w", err)
	}
	return v, nil
}
