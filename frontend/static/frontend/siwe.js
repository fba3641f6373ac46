// Sign-In with Ethereum through window.ethereum (EIP-1193, EIP-4361), with the API that exists:
// GET the nonce, have the wallet sign the message, POST it to verify, then exchange the API token for a session.
(function () {
  "use strict";
  // Keccak-256 (the pre-NIST padding Ethereum uses), for the EIP-55 checksum of the address in the message.
  // Constants are generated as in the Keccak reference (FIPS 202, sections 3.2.2 and 3.2.5).
  const MASK = (1n << 64n) - 1n;
  const ROUND = [], ROT = Array.from({length: 25}, () => 0n);
  (function () {
    let lfsr = 1;
    for (let i = 0; i < 24; i++) {
      let rc = 0n;
      for (let j = 0; j < 7; j++) {
        if (lfsr & 1) rc |= 1n << BigInt((1 << j) - 1);
        lfsr = (lfsr << 1) ^ (lfsr & 0x80 ? 0x71 : 0);
      }
      ROUND.push(rc);
    }
    let x = 1, y = 0;
    for (let t = 0; t < 24; t++) {
      ROT[x + 5 * y] = BigInt(((t + 1) * (t + 2) / 2) % 64);
      [x, y] = [y, (2 * x + 3 * y) % 5];
    }
  })();
  const rotl = (v, n) => n ? ((v << n) | (v >> (64n - n))) & MASK : v;

  function keccak256(bytes) {
    const rate = 136, s = Array.from({length: 25}, () => 0n);
    const padded = new Uint8Array(Math.floor(bytes.length / rate) * rate + rate);
    padded.set(bytes);
    padded[bytes.length] ^= 0x01;
    padded[padded.length - 1] ^= 0x80;
    for (let off = 0; off < padded.length; off += rate) {
      for (let i = 0; i < rate / 8; i++) {
        let lane = 0n;
        for (let b = 7; b >= 0; b--) lane = (lane << 8n) | BigInt(padded[off + 8 * i + b]);
        s[i] ^= lane;
      }
      for (let r = 0; r < 24; r++) {
        const c = [0, 1, 2, 3, 4].map(x => s[x] ^ s[x + 5] ^ s[x + 10] ^ s[x + 15] ^ s[x + 20]);
        for (let x = 0; x < 5; x++) {
          const d = c[(x + 4) % 5] ^ rotl(c[(x + 1) % 5], 1n);
          for (let y = 0; y < 25; y += 5) s[x + y] ^= d;
        }
        const b = Array(25);
        for (let x = 0; x < 5; x++) for (let y = 0; y < 5; y++) b[y + 5 * ((2 * x + 3 * y) % 5)] = rotl(s[x + 5 * y], ROT[x + 5 * y]);
        for (let x = 0; x < 5; x++) for (let y = 0; y < 25; y += 5) s[x + y] = b[x + y] ^ (~b[(x + 1) % 5 + y] & MASK & b[(x + 2) % 5 + y]);
        s[0] ^= ROUND[r];
      }
    }
    const out = new Uint8Array(32);
    for (let i = 0; i < 32; i++) out[i] = Number((s[i >> 3] >> BigInt(8 * (i & 7))) & 0xffn);
    return out;
  }

  function checksumAddress(address) {
    const hex = address.toLowerCase().replace(/^0x/, "");
    const hash = keccak256(new TextEncoder().encode(hex));
    let out = "0x";
    for (let i = 0; i < 40; i++) {
      const nibble = (hash[i >> 1] >> (i % 2 ? 0 : 4)) & 0xf;
      out += nibble >= 8 ? hex[i].toUpperCase() : hex[i];
    }
    return out;
  }

  const box = document.getElementById("siwe");
  if (!box) return;
  const status = document.getElementById("siwe-status"), button = document.getElementById("siwe-button");
  const csrf = (document.cookie.match(/(?:^|; )csrftoken=([^;]+)/) || [])[1] || "";

  if (!window.ethereum) {
    status.textContent = "No browser wallet found. Install a wallet extension such as MetaMask, or log in with a " +
      "username and password.";
    return;
  }
  status.textContent = "A browser wallet is available.";
  button.hidden = false;

  function message(address, chainId, nonce) {
    return location.host + " wants you to sign in with your Ethereum account:\n" + address + "\n\n" +
      "Sign in to xStocks Lending Lab.\n\nURI: " + location.origin + "\nVersion: 1\nChain ID: " + chainId +
      "\nNonce: " + nonce + "\nIssued At: " + new Date().toISOString();
  }

  async function json(response) {
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error((body.error && body.error.message) || "The server refused the sign-in.");
    return body;
  }

  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      status.textContent = "Asking your wallet for the account…";
      const [account] = await window.ethereum.request({method: "eth_requestAccounts"});
      const address = checksumAddress(account);  // EIP-4361 requires the EIP-55 form
      const chainId = parseInt(await window.ethereum.request({method: "eth_chainId"}), 16) || 1;
      const {nonce} = await json(await fetch(box.dataset.nonceUrl, {credentials: "same-origin"}));
      const text = message(address, chainId, nonce);
      status.textContent = "Sign the message in your wallet…";
      const signature = await window.ethereum.request({method: "personal_sign", params: [text, address]});
      const {token} = await json(await fetch(box.dataset.verifyUrl, {
        method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json"}, body: JSON.stringify({message: text, signature}),
      }));
      const done = await json(await fetch(box.dataset.sessionUrl, {
        method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/x-www-form-urlencoded", "X-CSRFToken": csrf},
        body: new URLSearchParams({token}),
      }));
      location.assign(done.redirect || "/");
    } catch (error) {
      status.textContent = "Sign-in failed: " + (error.message || error);
      button.disabled = false;
    }
  });
})();
