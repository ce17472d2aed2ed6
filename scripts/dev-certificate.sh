#!/usr/bin/env bash
# The HTTPS development certificate, which the dashboard asks for on every start ("No trusted development
# certificate" otherwise). Creates and trusts it where the SDK can do so without a prompt; otherwise says in one line
# what to run. Sourced by run.sh only (the tests need no certificate); nothing here ever stops the start.

dev_certificate_trusted() { dotnet dev-certs https --check --trust >/dev/null 2>&1; }

# On Linux the SDK trusts the certificate for OpenSSL through a directory of its own, which only counts once it is on
# SSL_CERT_DIR (beside the system's certificates, which the services need for Meta's https).
if [ "$(uname -s)" = Linux ]; then
  dev_certificate_dir="$HOME/.aspnet/dev-certs/trust"
  openssl_dir="$(openssl version -d 2>/dev/null | sed -n 's/^OPENSSLDIR: "\(.*\)"$/\1/p')" || openssl_dir=""
  system_certificate_dir="${openssl_dir:-/etc/ssl}/certs"
  case ":${SSL_CERT_DIR:-}:" in
    *":$dev_certificate_dir:"*) ;;
    *) export SSL_CERT_DIR="$dev_certificate_dir:${SSL_CERT_DIR:-$system_certificate_dir}" ;;
  esac
fi

if ! dev_certificate_trusted; then
  # Linux needs no prompt (the browsers' NSS stores are updated where certutil is installed); macOS and Windows ask
  # the user, so only a run at a terminal tries there.
  if [ "$(uname -s)" = Linux ] || [ -t 0 ]; then
    dotnet dev-certs https --trust >/dev/null 2>&1 || true
  fi

  if dev_certificate_trusted; then
    echo "ava: created and trusted the HTTPS development certificate for the dashboard." >&2
  else
    echo "ava: no trusted HTTPS development certificate (the dashboard warns until there is one): run 'dotnet dev-certs https --trust'${dev_certificate_dir:+ and add $dev_certificate_dir to SSL_CERT_DIR}." >&2
  fi
fi
