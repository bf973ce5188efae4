-- One database per service: each service owns its tables.
CREATE DATABASE status_tracker;
CREATE DATABASE notifier;
CREATE DATABASE transmitter;
