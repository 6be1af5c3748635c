/* tcpstack/csum.c - placeholder until the checksum module lands. */
