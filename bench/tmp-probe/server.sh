#!/bin/bash
# start a server on a fresh dir with N cashboxes, print creds
