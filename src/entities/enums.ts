/** The kind of account a provider gives access to: what a deployment asks for. */
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

export const TYPE_OF_KIND: Record<CredentialKind, ProviderType> = {
  [CredentialKind.AWS_ROLE]: ProviderType.AWS,
  [CredentialKind.AWS_ACCESS_KEY]: ProviderType.AWS,
  [CredentialKind.STRIPE_SECRET_KEY]: ProviderType.STRIPE,
  [CredentialKind.TWILIO_AUTH_TOKEN]: ProviderType.TWILIO,
};

/** What a caller may do in an org. ADMIN ⊃ DEVELOPER ⊃ DEPLOYER. */
export enum Role {
  ADMIN = "ADMIN",
  DEVELOPER = "DEVELOPER",
  DEPLOYER = "DEPLOYER",
}
