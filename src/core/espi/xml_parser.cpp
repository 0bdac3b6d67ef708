#include "espi/xml_parser.h"

#include <libxml/SAX2.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/error.h"

namespace geoetl::espi {
namespace {

constexpr size_t chunk_size = 256 * 1024;

XmlParser* parser_of(void* ctx) {
  return static_cast<XmlParser*>(static_cast<xmlParserCtxtPtr>(ctx)->_private);
}

}  // namespace

XmlParser::XmlParser(int fd, const std::string& path, const CancelToken& cancel)
    : fd_(fd), path_(path), cancel_(cancel), buffer_(chunk_size) {
  if (lseek(fd, 0, SEEK_SET) != 0)
    throw Error(ErrorKind::io_error, "cannot read ESPI file \"" + path + "\"",
                std::strerror(errno));
  xmlInitParser();
  xmlSAXHandler sax;
  std::memset(&sax, 0, sizeof sax);
  sax.initialized = XML_SAX2_MAGIC;
  sax.startElementNs = on_start;
  sax.endElementNs = on_end;
  sax.characters = on_characters;
  sax.cdataBlock = on_characters;
  sax.internalSubset = on_doctype;
  sax.serror = on_error;
  // The handlers get the parser context (user data NULL), whose _private points here.
  ctxt_ = xmlCreateIOParserCtxt(&sax, nullptr, on_read, on_close, this, XML_CHAR_ENCODING_NONE);
  if (ctxt_ == nullptr) {
    if (thrown_) std::rethrow_exception(thrown_);  // its first read failed
    throw Error(ErrorKind::internal, "libxml2 could not create a parser for \"" + path + "\"");
  }
  ctxt_->_private = this;
  xmlCtxtUseOptions(ctxt_, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
}

XmlParser::~XmlParser() {
  if (ctxt_->myDoc != nullptr) xmlFreeDoc(ctxt_->myDoc);
  xmlFreeParserCtxt(ctxt_);
}

const xmlChar* XmlParser::intern(const char* s) {
  return xmlDictLookup(ctxt_->dict, reinterpret_cast<const xmlChar*>(s), -1);
}

int XmlParser::line() const {
  return xmlSAX2GetLineNumber(ctxt_);
}

void XmlParser::parse(XmlEvents& events) {
  events_ = &events;
  xmlParseDocument(ctxt_);
  if (thrown_) std::rethrow_exception(thrown_);
  if (!first_error_.empty() || !ctxt_->wellFormed)
    throw Error(ErrorKind::data_corrupted, "ESPI file \"" + path_ + "\" is not well-formed XML",
                first_error_.empty() ? "libxml2 stopped reading it" : first_error_,
                "a truncated download or a file that is not XML (an HTML error page?)");
}

size_t XmlParser::refill() {
  cancel_.check();
  ssize_t n;
  do {
    n = read(fd_, buffer_.data(), buffer_.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0)
    throw Error(ErrorKind::io_error, "cannot read ESPI file \"" + path_ + "\"",
                std::strerror(errno));
  next_ = 0;
  end_ = static_cast<size_t>(n);
  return end_;
}

// libxml2 asks for a few KiB at a time: served from buffer_.
int XmlParser::on_read(void* self, char* out, int length) {
  auto* p = static_cast<XmlParser*>(self);
  if (p->thrown_) return -1;
  try {
    if (p->next_ == p->end_ && p->refill() == 0) return 0;
    const size_t n = std::min(p->end_ - p->next_, static_cast<size_t>(length));
    std::memcpy(out, p->buffer_.data() + p->next_, n);
    p->next_ += n;
    return static_cast<int>(n);
  } catch (...) {  // never through libxml2's C frames
    p->thrown_ = std::current_exception();
    return -1;
  }
}

int XmlParser::on_close(void*) {
  return 0;
}  // the descriptor is the caller's

template <class F>
void XmlParser::guarded(F f) {
  if (thrown_) return;  // stopped: libxml2 may still report what it had parsed
  try {
    f();
  } catch (...) {  // never through libxml2's C frames
    thrown_ = std::current_exception();
    xmlStopParser(ctxt_);
  }
}

void XmlParser::on_start(void* ctx, const xmlChar* name, const xmlChar*, const xmlChar* ns, int,
                         const xmlChar**, int nb_attributes, int, const xmlChar** attributes) {
  XmlParser* p = parser_of(ctx);
  p->guarded([&] { p->events_->start_element(name, ns, nb_attributes, attributes); });
}

void XmlParser::on_end(void* ctx, const xmlChar*, const xmlChar*, const xmlChar*) {
  XmlParser* p = parser_of(ctx);
  p->guarded([&] { p->events_->end_element(); });
}

void XmlParser::on_characters(void* ctx, const xmlChar* text, int length) {
  XmlParser* p = parser_of(ctx);
  if (p->events_->wants_text) p->guarded([&] { p->events_->characters(text, length); });
}

void XmlParser::on_doctype(void* ctx, const xmlChar*, const xmlChar*, const xmlChar*) {
  XmlParser* p = parser_of(ctx);
  p->guarded([&] {
    throw Error(
        ErrorKind::data_corrupted,
        "ESPI file \"" + p->path_ + "\" has a DOCTYPE (line " + std::to_string(p->line()) + ")", "",
        "Green Button feeds have no document type declaration");
  });
}

// Keeps libxml2's first error for the message: nothing goes to stderr or to a handler someone
// else installed (e.g. PostgreSQL's, for its xml type).
void XmlParser::on_error(void* ctx, xmlErrorPtr error) {
  XmlParser* p = parser_of(ctx);
  if (!p->first_error_.empty() || error == nullptr || error->level < XML_ERR_ERROR) return;
  std::string message = error->message ? error->message : "unknown error";
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  p->first_error_ = message + " (line " + std::to_string(error->line) + ")";
}

}  // namespace geoetl::espi
