#!/usr/bin/env bash
# The embedded Neo4j needs a JDK 17+ (javac to compile the launcher) and Maven (to resolve its jars).
# Install them from the distribution's packages when they are missing and we may; otherwise say what to do.
set -euo pipefail

missing=()
command -v java >/dev/null 2>&1 || missing+=(java)
command -v javac >/dev/null 2>&1 || missing+=(javac)
command -v mvn >/dev/null 2>&1 || missing+=(mvn)
[ ${#missing[@]} -eq 0 ] && exit 0

echo "ensure-java: missing ${missing[*]}" >&2
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq openjdk-17-jdk-headless maven >/dev/null
  exit 0
fi
echo "ensure-java: install a JDK 17+ and Maven (e.g. 'sudo apt-get install openjdk-17-jdk-headless maven')," \
     "or set NEO4J_URI to a running Neo4j 5.26 and use the Docker path in the README." >&2
exit 1
