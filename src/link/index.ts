// Attaching programs (src/link): the common Attachment and one file per hook.
export { Attachment, LinkAttachment, linkInfo, type AttachmentInfo } from './attachment.js';
