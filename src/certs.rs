//! Test certificates for the security profiles, made with rcgen: a CA, a server
//! certificate, and charger client certificates. (Not built yet.)
