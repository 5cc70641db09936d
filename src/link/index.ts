// Attaching programs (src/link): the common Attachment and one file per hook.
export { Attachment, LinkAttachment, linkInfo, type AttachmentInfo } from './attachment.js';
export { AttachRefusedError, AttachInputError } from './attach-error.js';
export { attachXdp, queryXdpPrograms, XdpAttachMode, XdpResult, XdpNetlinkAttachment, type XdpAttachParams } from './xdp.js';
export { attachTc, queryTcx, TcFilterAttachment, type TcAttachParams, type TcDirection, type TcxAnchor, type TcxQuery } from './tc.js';
export {
  attachSocketFilter,
  socketFdOf,
  SocketFilterAttachType,
  SocketFilterResult,
  SocketFilterAttachment,
  type SocketFilterAttachParams,
  type NodeSocketLike,
} from './socket-filter.js';
