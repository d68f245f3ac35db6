#!/bin/sh

# Makefile should have been excluded from the build
[ ! -f Makefile ]
