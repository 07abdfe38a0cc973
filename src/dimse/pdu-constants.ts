/**
 * Protocol numbers of the DICOM Upper Layer (PS3.8 Section 9.3) and DIMSE (PS3.7 Annex E), named
 * once here (house style 10) so the codecs read like the tables they follow.
 */

/** PDU types (PS3.8 Table 9-11 and 9.3.1 to 9.3.8). */
export const PduType = {
  AssociateRq: 0x01,
  AssociateAc: 0x02,
  AssociateRj: 0x03,
  PData: 0x04,
  ReleaseRq: 0x05,
  ReleaseRp: 0x06,
  Abort: 0x07,
} as const;

/** Variable item types of A-ASSOCIATE-RQ/AC (PS3.8 9.3.2.1 to 9.3.3.3, Annex D.3). */
export const ItemType = {
  ApplicationContext: 0x10,
  PresentationContextRq: 0x20,
  PresentationContextAc: 0x21,
  AbstractSyntax: 0x30,
  TransferSyntax: 0x40,
  UserInformation: 0x50,
  MaximumLength: 0x51,
  ImplementationClassUid: 0x52,
  AsyncOperations: 0x53,
  RoleSelection: 0x54,
  ImplementationVersionName: 0x55,
  /** User Identity sub-items (PS3.7 D.3.3.7): the requestor's identity, the acceptor's answer. */
  UserIdentityRq: 0x58,
  UserIdentityAc: 0x59,
} as const;

/** User-Identity-Type of the User Identity sub-item (PS3.7 Table D.3-14). */
export const UserIdentityType = { Username: 1, UsernameAndPasscode: 2, Kerberos: 3, Saml: 4, Jwt: 5 } as const;

/** PS3.7 Annex A.2.1: the one DICOM application context name. */
export const DICOM_APPLICATION_CONTEXT = '1.2.840.10008.3.1.1.1';

/** PS3.8 9.3.2: protocol version bit 0 (version 1). */
export const PROTOCOL_VERSION = 0x0001;

/** PDU header: type (1), reserved (1), length (4, big endian) (PS3.8 9.3.1). */
export const PDU_HEADER_LENGTH = 6;
/** PDV item header inside P-DATA-TF: item length (4) + presentation context id (1) + control header (1) (PS3.8 9.3.5.1). */
export const PDV_HEADER_LENGTH = 6;

/** Message control header bits (PS3.8 Annex E.2). */
export const MCH_COMMAND = 0x01;
export const MCH_LAST = 0x02;

/** Presentation context results (PS3.8 Table 9-18). */
export const PcResult = {
  Acceptance: 0,
  UserRejection: 1,
  NoReason: 2,
  AbstractSyntaxNotSupported: 3,
  TransferSyntaxesNotSupported: 4,
} as const;

/** A-ASSOCIATE-RJ result, source and reason (PS3.8 Table 9-21). */
export const RjResult = { Permanent: 1, Transient: 2 } as const;
export const RjSource = { ServiceUser: 1, ServiceProviderAcse: 2, ServiceProviderPresentation: 3 } as const;
export const RjReason = {
  /** source 1 */
  NoReason: 1,
  ApplicationContextNotSupported: 2,
  CallingAeNotRecognized: 3,
  CalledAeNotRecognized: 7,
  /** source 2 */
  ProtocolVersionNotSupported: 2,
  /** source 3 */
  TemporaryCongestion: 1,
  LocalLimitExceeded: 2,
} as const;

/** A-ABORT source and reason/diag (PS3.8 Table 9-26). */
export const AbortSource = { ServiceUser: 0, ServiceProvider: 2 } as const;
export const AbortReason = {
  NotSpecified: 0,
  UnrecognizedPdu: 1,
  UnexpectedPdu: 2,
  UnrecognizedPduParameter: 4,
  UnexpectedPduParameter: 5,
  InvalidPduParameterValue: 6,
} as const;

/** DIMSE command field values (PS3.7 Table E.1-1 and 9.3). */
export const CommandField = {
  CStoreRq: 0x0001,
  CStoreRsp: 0x8001,
  CFindRq: 0x0020,
  CFindRsp: 0x8020,
  CGetRq: 0x0010,
  CGetRsp: 0x8010,
  CMoveRq: 0x0021,
  CMoveRsp: 0x8021,
  CEchoRq: 0x0030,
  CEchoRsp: 0x8030,
  CCancelRq: 0x0fff,
  NEventReportRq: 0x0100,
  NEventReportRsp: 0x8100,
  NActionRq: 0x0130,
  NActionRsp: 0x8130,
} as const;

/** PS3.7 E.1-1: Command Data Set Type value meaning "no data set"; anything else means one follows. */
export const NO_DATASET = 0x0101;
/** PS3.7 9.1.1.1: Priority MEDIUM. */
export const PRIORITY_MEDIUM = 0x0000;

/** SOP classes of the services this node provides besides storage (PS3.4 A.4, C.6.2). */
export const VERIFICATION_SOP_CLASS = '1.2.840.10008.1.1';
export const STUDY_ROOT_FIND = '1.2.840.10008.5.1.4.1.2.2.1';
export const PATIENT_ROOT_FIND = '1.2.840.10008.5.1.4.1.2.1.1';
export const STUDY_ROOT_MOVE = '1.2.840.10008.5.1.4.1.2.2.2';
export const PATIENT_ROOT_MOVE = '1.2.840.10008.5.1.4.1.2.1.2';
export const STUDY_ROOT_GET = '1.2.840.10008.5.1.4.1.2.2.3';
export const PATIENT_ROOT_GET = '1.2.840.10008.5.1.4.1.2.1.3';
/** Storage Commitment Push Model SOP Class and its well-known SOP Instance (PS3.4 J.3.1, J.3.5). */
export const STORAGE_COMMITMENT_PUSH = '1.2.840.10008.1.20.1';
export const STORAGE_COMMITMENT_INSTANCE = '1.2.840.10008.1.20.1.1';
