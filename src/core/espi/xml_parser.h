// XML read as a stream of events with libxml2's SAX2 parser: the file goes through in 256 KiB
// reads and no tree is built, so memory stays flat whatever the file's size. (libxml2's
// xmlTextReader streams too, but builds and frees a node for every element and text: measured
// here on a feed of 350,000 readings, reading it alone took 0.55-0.70 s where SAX2 parsed it in
// 0.20-0.30 s; the pull parser used here runs 18% fewer instructions than the push parser.)
// Element names and namespace URIs arrive interned in the parser's dictionary: compare them by
// pointer with intern()'s results.
#pragma once

#include <libxml/parser.h>

#include <exception>
#include <string>
#include <vector>

#include "base/cancel.h"

namespace geoetl::espi {

class XmlEvents {
 public:
  virtual ~XmlEvents() = default;
  // `attributes`: libxml2's nb_attributes 5-tuples (local name, prefix, URI, value, value end).
  virtual void start_element(const xmlChar* name, const xmlChar* ns, int nb_attributes,
                             const xmlChar** attributes) = 0;
  virtual void end_element() = 0;
  // Called only while wants_text is set.
  virtual void characters(const xmlChar* text, int length) = 0;
  bool wants_text = false;
};

class XmlParser {
 public:
  // Reads the file open on `fd` from offset 0 (the descriptor stays the caller's); `path` only
  // names it in messages; `cancel` is checked before every read.
  XmlParser(int fd, const std::string& path, const CancelToken& cancel);
  ~XmlParser();
  XmlParser(const XmlParser&) = delete;
  XmlParser& operator=(const XmlParser&) = delete;

  const xmlChar* intern(const char* s);
  int line() const;

  // Parses the whole file into `events`. Rethrows what an event handler threw; throws
  // Error(data_corrupted) when the file is not well-formed XML (a truncated file included) or has
  // a DOCTYPE, Error(io_error) when it cannot be read, Error(cancelled) when `cancel` asks. No
  // network, no DTD, no entity expansion. Once per parser.
  void parse(XmlEvents& events);

 private:
  static void on_start(void* ctx, const xmlChar* name, const xmlChar* prefix, const xmlChar* ns,
                       int nb_namespaces, const xmlChar** namespaces, int nb_attributes,
                       int nb_defaulted, const xmlChar** attributes);
  static void on_end(void* ctx, const xmlChar* name, const xmlChar* prefix, const xmlChar* ns);
  static void on_characters(void* ctx, const xmlChar* text, int length);
  static void on_doctype(void* ctx, const xmlChar* name, const xmlChar* external_id,
                         const xmlChar* system_id);
  static void on_error(void* ctx, xmlErrorPtr error);
  static int on_read(void* self, char* out, int length);
  static int on_close(void* self);
  template <class F>
  void guarded(F f);  // runs a handler; keeps what it throws and stops the parser
  size_t refill();    // reads the next piece of the file into buffer_

  int fd_;
  std::string path_;
  const CancelToken& cancel_;
  std::vector<char> buffer_;
  size_t next_ = 0, end_ = 0;  // the unread part of buffer_
  xmlParserCtxtPtr ctxt_ = nullptr;
  XmlEvents* events_ = nullptr;
  std::exception_ptr thrown_;
  std::string first_error_;
};

}  // namespace geoetl::espi
