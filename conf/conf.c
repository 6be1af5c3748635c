/* conf/conf.c - placeholder until the YAML reader lands. */
