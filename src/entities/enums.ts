/** The type of account a provider gives access to: what a deployment asks for. */
export enum ProviderType {
  AWS = "AWS",
  STRIPE = "STRIPE",
  TWILIO = "TWILIO",
}

/** How a provider holds its credentials. */
export enum CredentialKind {
  AWS_ROLE = "AWS_ROLE",
  AWS_ACCESS_KEY = "AWS_ACCESS_KEY",
  STRIPE_SECRET_KEY = "STRIPE_SECRET_KEY",
  TWILIO_AUTH_TOKEN = "TWILIO_AUTH_TOKEN",
}

/** What a caller may do in an org. ADMIN ⊃ DEVELOPER ⊃ DEPLOYER. */
export enum Role {
  ADMIN = "ADMIN",
  DEVELOPER = "DEVELOPER",
  DEPLOYER = "DEPLOYER",
}
